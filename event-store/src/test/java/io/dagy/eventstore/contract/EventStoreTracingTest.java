package io.dagy.eventstore.contract;

import io.dagy.eventstore.events.DynamoEventStorageEngine;
import io.dagy.eventstore.support.RecordingSpanFactory;
import io.dagy.eventstore.support.RecordingSpanFactory.RecordedSpan;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.DefaultEventBusSpanFactory;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The event store is Axon's {@code EmbeddedEventStore} over our engine, so it traces like Axon's own stores through
 * the {@code EventBusSpanFactory}: a publish span per event and a commit span per unit of work. What is ours to keep is
 * the trace context the publish span puts in each event's metadata: it must be stored and read back, on both read
 * paths, so a processor on any node links its handling to the trace that published the event.
 */
class EventStoreTracingTest {

    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS);
    private final RecordingSpanFactory spans = new RecordingSpanFactory();
    private final DynamoEventStorageEngine engine = DynamoEventStorageEngine.builder()
            .dynamoDb(TestTables.dynamoDb())
            .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
            .eventSerializer(TestSerializer.jackson())
            .snapshotSerializer(TestSerializer.jackson())
            .build();
    private final EmbeddedEventStore store = EmbeddedEventStore.builder()
            .storageEngine(engine)
            .spanFactory(DefaultEventBusSpanFactory.builder().spanFactory(spans).build())
            .build();

    @AfterEach
    void stop() {
        store.shutDown();
    }

    @Test
    void eachPublishedEventIsTracedAndCarriesItsTraceContextThroughTheStore() {
        DefaultUnitOfWork.startAndGet(null).execute(() -> store.publish(
                new GenericDomainEventMessage<>("Order", "order-1", 0, "opened"),
                new GenericDomainEventMessage<>("Order", "order-1", 1, "paid")));

        List<RecordedSpan> published = spans.ended("EventBus.publishEvent");
        assertThat(published).hasSize(2);
        assertThat(spans.ended("EventBus.commitEvents")).hasSize(1);
        List<String> publishIds = published.stream().map(RecordedSpan::id).toList();
        assertThat(store.readEvents("order-1").asStream().map(e -> e.getMetaData().get(RecordingSpanFactory.CONTEXT_KEY)))
                .containsExactlyElementsOf(publishIds);
        try (var tracked = store.openStream(null)) {
            assertThat(List.of(next(tracked), next(tracked)))
                    .extracting(e -> e.getMetaData().get(RecordingSpanFactory.CONTEXT_KEY))
                    .containsExactlyElementsOf(publishIds);
        }
    }

    private static TrackedEventMessage<?> next(org.axonframework.common.stream.BlockingStream<TrackedEventMessage<?>> stream) {
        try {
            return stream.nextAvailable();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
