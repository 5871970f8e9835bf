package io.dagy.eventstore.events;

import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStoreException;
import org.axonframework.serialization.Serializer;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code DAGY_EVENT_SHARDS} may grow on a running system. An aggregate's next event must then go where its previous
 * event is, or a gap in the old shard lets event n+1 (in the new shard) be delivered before event n.
 */
class ShardCountChangeTest {

    record Noted(String id, long step) {
    }

    private final Serializer serializer = TestSerializer.jackson();
    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS);

    private DynamoEventStorageEngine engine(int shards, DynamoDbClient client, DynamoEventStorageEngine.AppendHook hook) {
        return DynamoEventStorageEngine.builder()
                .dynamoDb(client)
                .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                .settings(EventStoreSettings.defaults().withShards(shards).withGapTimeout(Duration.ofMillis(300))
                        .withBucketSize(100))
                .eventSerializer(serializer)
                .snapshotSerializer(serializer)
                .appendHook(hook)
                .build();
    }

    private DynamoEventStorageEngine engine(int shards) {
        return engine(shards, TestTables.dynamoDb(), DynamoEventStorageEngine.AppendHook.NONE);
    }

    private static DomainEventMessage<Noted> event(String aggregate, long sequence) {
        return new GenericDomainEventMessage<>("Noted", aggregate, sequence, new Noted(aggregate, sequence));
    }

    /**
     * An engine whose requests are counted by operation and table: {@code GetItem events}, {@code Query snapshots}
     * (a transaction counts as {@code TransactWriteItems}).
     */
    private DynamoEventStorageEngine counted(int shards, Map<String, Integer> requests) {
        ExecutionInterceptor counting = new ExecutionInterceptor() {
            @Override
            public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                String operation = context.request().getClass().getSimpleName().replace("Request", "");
                String table = context.request().getValueForField("TableName", String.class)
                        .map(name -> name.equals(tables.name(DagyTable.EVENTS)) ? " events" : " snapshots").orElse("");
                requests.merge(operation + table, 1, Integer::sum);
            }
        };
        var engine = engine(shards, TestTables.dynamoDbWith(counting), DynamoEventStorageEngine.AppendHook.NONE);
        requests.clear(); // the check of the shard count at start
        return engine;
    }

    private List<Integer> storedShards(String aggregate) {
        return TestTables.dynamoDb().query(b -> b.tableName(tables.name(DagyTable.EVENTS)).consistentRead(true)
                        .keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("agg#" + aggregate))))
                .items().stream().map(item -> Integer.parseInt(item.get("shard").n())).toList();
    }

    private static List<TrackedEventMessage<?>> readAll(DynamoEventStorageEngine reader) {
        try (var stream = reader.readEvents(null, false)) {
            return stream.collect(Collectors.toList());
        }
    }

    private static List<Long> sequencesOf(String aggregate, List<TrackedEventMessage<?>> delivered) {
        return delivered.stream().map(e -> (DomainEventMessage<?>) e)
                .filter(e -> e.getAggregateIdentifier().equals(aggregate))
                .map(DomainEventMessage::getSequenceNumber).toList();
    }

    /** An aggregate id whose shard differs between two and three shards. */
    private static String movingAggregate(DynamoEventStorageEngine two, DynamoEventStorageEngine three) {
        return IntStream.range(0, 1000).mapToObj(i -> "moving-" + i)
                .filter(id -> two.shardOf(id) != three.shardOf(id)).findFirst().orElseThrow();
    }

    private static String aggregateInShard(DynamoEventStorageEngine engine, int shard, String prefix) {
        return IntStream.range(0, 1000).mapToObj(i -> prefix + i)
                .filter(id -> engine.shardOf(id) == shard).findFirst().orElseThrow();
    }

    /** Reserves a position in {@code shard} and dies before writing it: readers wait there for the gap timeout. */
    private void leaveAGap(int shards, int shard) {
        var dying = engine(shards, TestTables.dynamoDb(), (first, counts) -> {
            throw new IllegalStateException("writer killed");
        });
        String aggregate = aggregateInShard(dying, shard, "dying-");
        assertThatThrownBy(() -> dying.appendEvents(List.of(event(aggregate, 0)))).hasMessage("writer killed");
    }

    @Test
    void afterShardsAreAddedAnAggregatesNextEventIsNeverDeliveredBeforeTheOneBehindAGap() {
        var two = engine(2);
        var three = engine(3);
        String aggregate = movingAggregate(two, three);
        leaveAGap(2, two.shardOf(aggregate));
        two.appendEvents(List.of(event(aggregate, 0))); // behind the gap, in its shard of two

        three.appendEvents(List.of(event(aggregate, 1))); // the same aggregate, after the shard count went to 3

        // nothing is fenced on a first read (the gap has just been seen): sequence 0 waits behind the gap, and so
        // must sequence 1
        assertThat(sequencesOf(aggregate, readAll(three))).isEmpty();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(sequencesOf(aggregate, readAll(three))).containsExactly(0L, 1L));
    }

    @Test
    void anAggregateJustLoadedIsAppendedToWithoutAnExtraRead() {
        var two = engine(2);
        String aggregate = movingAggregate(two, engine(3));
        two.appendEvents(List.of(event(aggregate, 0), event(aggregate, 1)));
        Map<String, Integer> requests = new ConcurrentHashMap<>();
        var three = counted(3, requests);

        assertThat(three.readEvents(aggregate).asStream().count()).isEqualTo(2); // a command handler loads it
        three.appendEvents(List.of(event(aggregate, 2))); // and appends
        assertThat(three.lastSequenceNumberFor(aggregate)).hasValue(2L); // a cached aggregate's version check
        three.appendEvents(List.of(event(aggregate, 3)));

        // per append one counter update and one transaction, as before shards were kept; no lookup
        assertThat(requests).isEqualTo(Map.of("Query events", 2, "UpdateItem events", 2, "TransactWriteItems", 2));
        assertThat(readAll(three)).extracting(e -> ((DomainEventMessage<?>) e).getSequenceNumber())
                .containsExactly(0L, 1L, 2L, 3L);
        assertThat(storedShards(aggregate)).containsOnly(two.shardOf(aggregate));
    }

    @Test
    void anAggregateLoadedFromASnapshotWithNoNewerEventsIsAppendedToWithoutAnExtraRead() {
        var two = engine(2);
        String aggregate = movingAggregate(two, engine(3));
        two.appendEvents(List.of(event(aggregate, 0), event(aggregate, 1)));
        two.readEvents(aggregate).asStream().count(); // the snapshotter reads the aggregate, then stores its state
        two.storeSnapshot(event(aggregate, 1));
        Map<String, Integer> requests = new ConcurrentHashMap<>();
        var three = counted(3, requests);

        assertThat(three.readSnapshot(aggregate)).isPresent();
        assertThat(three.readEvents(aggregate, 2).asStream().count()).isZero();
        three.appendEvents(List.of(event(aggregate, 2)));

        assertThat(requests).doesNotContainKey("GetItem events");
        assertThat(storedShards(aggregate)).containsOnly(two.shardOf(aggregate));
    }

    @Test
    void anAggregateNotLoadedOnThisNodeIsLookedUpOnceAndKeepsItsShard() {
        var two = engine(2);
        String aggregate = movingAggregate(two, engine(3));
        two.appendEvents(List.of(event(aggregate, 0)));
        Map<String, Integer> requests = new ConcurrentHashMap<>();
        var three = counted(3, requests);

        three.appendEvents(List.of(event(aggregate, 1), event(aggregate, 2)));
        three.appendEvents(List.of(event(aggregate, 3)));

        assertThat(storedShards(aggregate)).containsOnly(two.shardOf(aggregate)).hasSize(4);
        assertThat(requests).containsEntry("GetItem events", 1);
    }

    @Test
    void anAggregateInAShardThatNoLongerExistsIsRefusedRatherThanMovedSilently() {
        var two = engine(2); // started before the table held anything in shard 2
        var three = engine(3);
        String aggregate = aggregateInShard(three, 2, "in-shard-2-");
        three.appendEvents(List.of(event(aggregate, 0)));

        assertThatThrownBy(() -> two.appendEvents(List.of(event(aggregate, 1))))
                .isInstanceOf(EventStoreException.class).hasMessageContaining("shard 2")
                .hasMessageContaining("never shrink");
        assertThat(three.lastSequenceNumberFor(aggregate)).hasValue(0L);
    }

    @Test
    void anEngineWithFewerShardsThanTheTableHasUsedRefusesToStart() {
        var four = engine(4);
        four.appendEvents(List.of(event(aggregateInShard(four, 3, "in-shard-3-"), 0)));

        assertThat(engine(4)).isNotNull();
        assertThat(engine(5)).isNotNull();
        assertThatThrownBy(() -> engine(3)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("holds events in shard 3").hasMessageContaining("at least 4");
        assertThatThrownBy(() -> engine(1)).hasMessageContaining("holds events in shard 3");
    }
}
