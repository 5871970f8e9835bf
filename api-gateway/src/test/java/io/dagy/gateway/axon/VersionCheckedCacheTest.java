package io.dagy.gateway.axon;

import io.dagy.eventstore.caching.LruCache;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventsourcing.AggregateCacheEntry;
import org.axonframework.eventsourcing.EventSourcedAggregate;
import org.axonframework.eventsourcing.NoSnapshotTriggerDefinition;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.eventsourcing.eventstore.inmemory.InMemoryEventStorageEngine;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.inspection.AnnotatedAggregateMetaModelFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class VersionCheckedCacheTest {

    static class Thing {
        @AggregateIdentifier
        String id = "thing-1";
    }

    private final InMemoryEventStorageEngine engine = new InMemoryEventStorageEngine();
    private final EmbeddedEventStore eventStore = EmbeddedEventStore.builder().storageEngine(engine).build();
    private final VersionCheckedCache cache = new VersionCheckedCache(new LruCache(10), () -> eventStore);

    @AfterEach
    void stop() {
        eventStore.shutDown();
    }

    private void append(long sequence) {
        engine.appendEvents(new GenericDomainEventMessage<>("Thing", "thing-1", sequence, "event " + sequence));
    }

    private AggregateCacheEntry<Thing> cachedAt(long version) {
        return new AggregateCacheEntry<>(EventSourcedAggregate.reconstruct(new Thing(),
                AnnotatedAggregateMetaModelFactory.inspectAggregate(Thing.class), version, false, eventStore,
                NoSnapshotTriggerDefinition.TRIGGER));
    }

    @Test
    void aCurrentEntryIsHandedOut() {
        append(0);
        append(1);
        AggregateCacheEntry<Thing> entry = cachedAt(1);
        cache.put("thing-1", entry);

        assertThat(VersionCheckedCache.versionOf(entry)).isEqualTo(1L);
        assertThat(cache.<String, Object>get("thing-1")).isSameAs(entry);
    }

    /** Another node appended meanwhile: the entry goes, and the repository loads the aggregate afresh. */
    @Test
    void anEntryBehindTheEventStoreIsEvicted() {
        append(0);
        append(1);
        cache.put("thing-1", cachedAt(1));
        append(2);

        assertThat(cache.<String, Object>get("thing-1")).isNull();
        assertThat(cache.containsKey("thing-1")).isFalse();
    }
}
