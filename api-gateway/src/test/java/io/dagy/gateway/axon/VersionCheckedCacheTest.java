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
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.modelling.command.AggregateLifecycle;
import org.axonframework.modelling.command.ConcurrencyException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VersionCheckedCacheTest {

    static class Thing {
        @AggregateIdentifier
        String id = "thing-1";
    }

    private final InMemoryEventStorageEngine engine = new InMemoryEventStorageEngine();
    /** Reads of the last sequence number: what a version check costs. */
    private final AtomicInteger versionReads = new AtomicInteger();
    private final EmbeddedEventStore eventStore = new EmbeddedEventStore(EmbeddedEventStore.builder().storageEngine(engine)) {
        @Override
        public Optional<Long> lastSequenceNumberFor(String aggregateIdentifier) {
            versionReads.incrementAndGet();
            return super.lastSequenceNumberFor(aggregateIdentifier);
        }
    };
    private final VersionCheckedCache cache = new VersionCheckedCache(new LruCache(10), () -> eventStore);

    @AfterEach
    void stop() {
        eventStore.shutDown();
    }

    private void append(long sequence) {
        engine.appendEvents(new GenericDomainEventMessage<>("Thing", "thing-1", sequence, "event " + sequence));
    }

    private AggregateCacheEntry<Thing> cachedAt(long version) {
        return new AggregateCacheEntry<>(aggregateAt(version));
    }

    private EventSourcedAggregate<Thing> aggregateAt(long version) {
        return EventSourcedAggregate.reconstruct(new Thing(),
                AnnotatedAggregateMetaModelFactory.inspectAggregate(Thing.class), version, false, eventStore,
                NoSnapshotTriggerDefinition.TRIGGER);
    }

    /** A command that appends nothing on a stale entry must not commit: it fails, to be retried on fresh state. */
    @Test
    void aCommandThatAppendsNothingOnAStaleEntryFailsAndTheEntryGoes() {
        append(0);
        cache.put("thing-1", cachedAt(0));
        append(1); // another node

        DefaultUnitOfWork<?> unitOfWork = DefaultUnitOfWork.startAndGet(null);
        assertThat(cache.<String, Object>get("thing-1")).isNotNull(); // no read yet
        assertThat(versionReads.get()).isZero();
        assertThatThrownBy(unitOfWork::commit).isInstanceOf(ConcurrencyException.class);
        assertThat(cache.containsKey("thing-1")).isFalse();
    }

    @Test
    void aCommandThatAppendsNothingOnACurrentEntryCommitsAfterOneRead() {
        append(0);
        cache.put("thing-1", cachedAt(0));

        DefaultUnitOfWork<?> unitOfWork = DefaultUnitOfWork.startAndGet(null);
        assertThat(cache.<String, Object>get("thing-1")).isNotNull();
        unitOfWork.commit();

        assertThat(versionReads.get()).isEqualTo(1);
        assertThat(cache.containsKey("thing-1")).isTrue();
    }

    /** The append guards a command that appends: it costs no read (a stale one would be refused by the store). */
    @Test
    void aCommandThatAppendsCostsNoRead() {
        append(0);
        EventSourcedAggregate<Thing> aggregate = aggregateAt(0);
        cache.put("thing-1", new AggregateCacheEntry<>(aggregate));

        DefaultUnitOfWork<?> unitOfWork = DefaultUnitOfWork.startAndGet(null);
        assertThat(cache.<String, Object>get("thing-1")).isNotNull();
        aggregate.execute(thing -> AggregateLifecycle.apply("event 1"));
        unitOfWork.commit();

        assertThat(versionReads.get()).isZero();
        assertThat(eventStore.lastSequenceNumberFor("thing-1")).contains(1L);
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
