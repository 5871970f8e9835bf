package io.dagy.eventstore.contract;

import io.dagy.eventstore.events.DynamoEventStorageEngine;
import io.dagy.eventstore.events.EventStoreSettings;
import io.dagy.eventstore.events.EventTooLargeException;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventsourcing.eventstore.AbstractEventStorageEngine;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Axon's storage-engine contract, and the deviations Dagy's engine has by design, against DynamoDB Local. */
class DynamoEventStorageEngineContractTest extends EventStorageEngineContract {

    /**
     * Three shards, so events of different aggregates are merged across shards; the smallest buckets and small read pages, so
     * a long read crosses partitions and pages.
     */
    private static final EventStoreSettings SETTINGS = new EventStoreSettings(3, 100, Duration.ofMillis(300), 20,
            EventStoreSettings.defaults().compressionThreshold(), EventStoreSettings.defaults().appendAttempts());

    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS);

    @Override
    protected AbstractEventStorageEngine createEngine(UnaryOperator<AbstractEventStorageEngine.Builder> customize) {
        DynamoEventStorageEngine.Builder builder = DynamoEventStorageEngine.builder()
                .dynamoDb(TestTables.dynamoDb())
                .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                .settings(SETTINGS)
                .eventSerializer(TestSerializer.jackson())
                .snapshotSerializer(TestSerializer.jackson());
        customize.apply(builder);
        return builder.build();
    }

    @Override
    protected int readPageSize() {
        return Math.max(SETTINGS.bucketSize(), SETTINGS.readBatchSize());
    }

    /** Deviation: one unit of work appends at most 50 domain events (one DynamoDB transaction of 100 items). */
    @Test
    void deviationMoreThanFiftyDomainEventsInOneAppendAreRefusedAndNothingIsWritten() {
        List<DomainEventMessage<?>> tooMany = IntStream.range(0, EVENTS_PER_APPEND + 1)
                .<DomainEventMessage<?>>mapToObj(i -> new GenericDomainEventMessage<>("Order", "order-1", i,
                        new Noted("order-1", i)))
                .toList();

        assertThatThrownBy(() -> engine().appendEvents(tooMany)).isInstanceOf(EventTooLargeException.class);
        assertThat(engine().readEvents("order-1").asStream()).isEmpty();
        engine().appendEvents(tooMany.subList(0, EVENTS_PER_APPEND));
        assertThat(engine().readEvents("order-1").asStream()).hasSize(EVENTS_PER_APPEND);
    }
}
