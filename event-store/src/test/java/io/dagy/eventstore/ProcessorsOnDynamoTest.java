package io.dagy.eventstore;

import io.dagy.eventstore.events.DynamoEventStorageEngine;
import io.dagy.eventstore.events.DynamoTrackingToken;
import io.dagy.eventstore.events.EventStoreSettings;
import io.dagy.eventstore.processing.ReadAheadMessageSource;
import io.dagy.eventstore.support.MutableClock;
import io.dagy.eventstore.support.PlacedEvents;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.SimpleEventHandlerInvoker;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.async.SequencingPolicy;
import org.axonframework.eventhandling.pooled.PooledStreamingEventProcessor;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.messaging.annotation.MetaDataValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Axon's pooled streaming processors running on the DynamoDB event store, token store and transaction manager.
 */
class ProcessorsOnDynamoTest {

    record Happened(int n) {
    }

    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS, DagyTable.TOKENS,
            DagyTable.SAGAS);
    private final DynamoEventStorageEngine engine = DynamoEventStorageEngine.builder()
            .dynamoDb(TestTables.dynamoDb())
            .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
            .settings(EventStoreSettings.defaults().withShards(2))
            .eventSerializer(TestSerializer.jackson())
            .snapshotSerializer(TestSerializer.jackson())
            .build();
    private final EmbeddedEventStore eventStore = EmbeddedEventStore.builder()
            .storageEngine(engine)
            .fetchDelay(50)
            .build();
    private final List<PooledStreamingEventProcessor> processors = new ArrayList<>();

    @AfterEach
    void stop() {
        processors.forEach(PooledStreamingEventProcessor::shutDown);
        eventStore.shutDown();
    }

    /**
     * A projection-like handler whose effect is not idempotent on its own: it adds one to a per-event counter item,
     * inside the processor's DynamoDB transaction. Redelivery after a lost token would count an event twice.
     */
    class CountingHandler {
        final Map<String, String> handledBy = new ConcurrentHashMap<>();
        final AtomicInteger calls = new AtomicInteger();
        final String node;

        CountingHandler(String node) {
            this.node = node;
        }

        @EventHandler
        void on(Object payload, EventMessage<?> message) {
            calls.incrementAndGet();
            handledBy.put(message.getIdentifier(), node);
            Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromS("count#" + message.getIdentifier()),
                    "sk", AttributeValue.fromS("count"));
            DynamoTransaction transaction = DynamoTransactionManager.current().orElseThrow();
            transaction.write(new DynamoTransaction.ItemKey(tables.name(DagyTable.SAGAS), key),
                    TransactWriteItem.builder().update(Update.builder().tableName(tables.name(DagyTable.SAGAS)).key(key)
                            .updateExpression("ADD times :one")
                            .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))).build()).build(),
                    IllegalStateException::new);
            CrashingTransactions.effectWritten();
        }
    }

    private int timesCounted(EventMessage<?> event) {
        var item = TestTables.dynamoDb().getItem(b -> b.tableName(tables.name(DagyTable.SAGAS)).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS("count#" + event.getIdentifier()), "sk", AttributeValue.fromS("count"))))
                .item();
        return item == null || item.isEmpty() ? 0 : Integer.parseInt(item.get("times").n());
    }

    private PooledStreamingEventProcessor processor(String node, Object handler, TransactionManager transactions,
                                                    int segments, int maxClaimed) {
        return processor(node, handler, transactions, segments, maxClaimed, null, Clock.systemUTC(), 5000);
    }

    /**
     * A pooled processor as the application configures it (reading through {@link ReadAheadMessageSource}), starting
     * new segments at the tail. {@code sequencing} null sequences by event id; {@code clock} is the processor's own
     * (work packages store a token they did not move by handling an event only once {@code claimExtension} ms have
     * passed on it, so a clock that stands still means a token is stored only with a handled event).
     */
    private PooledStreamingEventProcessor processor(String node, Object handler, TransactionManager transactions,
                                                    int segments, int maxClaimed,
                                                    SequencingPolicy<EventMessage<?>> sequencing, Clock clock,
                                                    long claimExtension) {
        var tokenStore = new DynamoTokenStore(TestTables.dynamoDb(), tables.name(DagyTable.TOKENS),
                TestSerializer.jackson(), node, Duration.ofSeconds(10), Clock.systemUTC());
        var invoker = SimpleEventHandlerInvoker.builder().eventHandlers(handler);
        if (sequencing != null) {
            invoker.sequencingPolicy(sequencing);
        }
        var processor = PooledStreamingEventProcessor.builder()
                .name("counting")
                .eventHandlerInvoker(invoker.build())
                .messageSource(new ReadAheadMessageSource(eventStore, 1024))
                .tokenStore(tokenStore)
                .transactionManager(transactions)
                .coordinatorExecutor(Executors.newSingleThreadScheduledExecutor())
                .workerExecutor(Executors.newScheduledThreadPool(2))
                .initialSegmentCount(segments)
                .initialToken(source -> source.createTailToken())
                .maxClaimedSegments(maxClaimed)
                .tokenClaimInterval(100)
                .claimExtensionThreshold(claimExtension)
                .clock(clock)
                .build();
        processors.add(processor);
        processor.start();
        return processor;
    }

    private PooledStreamingEventProcessor keyedProcessor(String node, Object handler, int segments, int maxClaimed,
                                                         Clock clock) {
        return processor(node, handler, new DynamoTransactionManager(TestTables.dynamoDb()), segments, maxClaimed,
                PlacedEvents.byKey(), clock, 5000);
    }

    /** Whether every segment the processor works on has moved past {@code position} (its effects are committed). */
    private static boolean caughtUp(PooledStreamingEventProcessor processor, int segments, TrackingToken position) {
        var status = processor.processingStatus();
        return status.size() == segments && status.values().stream()
                .allMatch(s -> !s.isErrorState() && s.getTrackingToken() != null
                        && s.getTrackingToken().covers(position));
    }

    /** How many times each event was handled in total (committed), by label. */
    private Map<String, Integer> counts(List<EventMessage<?>> events) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        events.forEach(e -> counts.put(label(e), timesCounted(e)));
        return counts;
    }

    private static String label(EventMessage<?> event) {
        return ((PlacedEvents.Keyed) event.getPayload()).label();
    }

    /**
     * Publishes {@code keys[shard][i]}-keyed events at positions {@code i + 1} of each shard, the shards interleaved in
     * time, and checks they landed there. Returns them by shard and position.
     */
    private EventMessage<?>[][] place(int[][] keys) {
        Instant start = Instant.parse("2026-03-01T10:00:00Z");
        EventMessage<?>[][] placed = new EventMessage<?>[keys.length][];
        List<EventMessage<?>> all = new ArrayList<>();
        for (int shard = 0; shard < keys.length; shard++) {
            placed[shard] = new EventMessage<?>[keys[shard].length];
        }
        for (int position = 1; position <= keys[0].length; position++) {
            for (int shard = 0; shard < keys.length; shard++) {
                var event = PlacedEvents.event(shard, keys.length, keys[shard][position - 1],
                        start.plusMillis(10L * position + shard), "shard " + shard + " position " + position);
                placed[shard][position - 1] = event;
                all.add(event);
            }
        }
        eventStore.publish(all);
        Map<String, PlacedEvents.Place> places = PlacedEvents.places(engine);
        for (int shard = 0; shard < keys.length; shard++) {
            for (int position = 1; position <= keys[shard].length; position++) {
                assertThat(places.get(placed[shard][position - 1].getIdentifier()))
                        .isEqualTo(new PlacedEvents.Place(shard, position));
            }
        }
        return placed;
    }

    /**
     * What exactly-once means when segments start from {@code tokens}: an event is handled once if its segment's token
     * does not cover it, else never.
     */
    private static Map<String, Integer> expectedCounts(EventMessage<?>[][] placed, long[][] tokens) {
        Map<String, Integer> expected = new LinkedHashMap<>();
        for (int shard = 0; shard < placed.length; shard++) {
            for (int position = 1; position <= placed[shard].length; position++) {
                EventMessage<?> event = placed[shard][position - 1];
                int segment = ((PlacedEvents.Keyed) event.getPayload()).key();
                expected.put(label(event), position > tokens[segment][shard] ? 1 : 0);
            }
        }
        return expected;
    }

    private void initializeSegments(long[][] tokens) {
        DynamoTokenStore setup = tokenStoreView();
        for (int segment = 0; segment < tokens.length; segment++) {
            setup.initializeSegment(new DynamoTrackingToken(tokens[segment]), "counting", segment);
        }
    }

    private List<EventMessage<?>> publish(int count) {
        List<EventMessage<?>> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            events.add(GenericEventMessage.asEventMessage(new Happened(i)));
        }
        eventStore.publish(events);
        return events;
    }

    @Test
    void effectsAndTokenCommitTogetherSoACrashAroundTheCommitNeitherLosesNorRepeatsAnEffect() {
        var crashing = new CrashingTransactions(new DynamoTransactionManager(TestTables.dynamoDb()), 2, 2);
        var handler = new CountingHandler("a");
        processor("a", handler, crashing, 1, 16);

        List<EventMessage<?>> events = publish(10);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(events).allSatisfy(e -> assertThat(timesCounted(e)).isEqualTo(1)));
        assertThat(crashing.crashesBefore.get()).isZero();
        assertThat(crashing.crashesAfter.get()).isZero();
        assertThat(handler.calls.get()).isGreaterThan(events.size()); // events were redelivered, effects were not repeated
    }

    /**
     * Splitting a segment and merging it back hands events over between work packages; every event is handled exactly
     * once. (The merge is made once both halves have stored the same token, as a caught-up processor's halves do; a
     * merge of halves at different positions redelivers what the half ahead had handled, see docs/event-store.md.)
     */
    @Test
    void aPooledProcessorSplitsAndMergesSegmentsAndHandlesEveryEventOnce() throws Exception {
        var handler = new CountingHandler("a");
        var processor = processor("a", handler, new DynamoTransactionManager(TestTables.dynamoDb()), 2, 16, null,
                Clock.systemUTC(), 100);
        List<EventMessage<?>> before = publish(10);
        await().atMost(Duration.ofSeconds(20)).until(() -> handler.handledBy.size() == 10);

        assertThat(processor.splitSegment(0).get(20, TimeUnit.SECONDS)).isTrue();
        assertThat(tokenStoreView().fetchSegments("counting")).containsExactly(0, 1, 2);
        List<EventMessage<?>> between = publish(10);
        await().atMost(Duration.ofSeconds(20)).until(() -> handler.handledBy.size() == 20);
        await().atMost(Duration.ofSeconds(20)).until(() -> processor.processingStatus().size() == 3);
        TrackingToken head = engine.createHeadToken();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            TrackingToken zero = tokenStoreView().storedToken("counting", 0);
            return zero != null && zero.covers(head) && zero.equals(tokenStoreView().storedToken("counting", 2));
        });
        assertThat(processor.mergeSegment(0).get(20, TimeUnit.SECONDS)).isTrue();
        assertThat(tokenStoreView().fetchSegments("counting")).containsExactly(0, 1);
        List<EventMessage<?>> after = publish(10);

        await().atMost(Duration.ofSeconds(20)).until(() -> handler.handledBy.size() == 30);
        await().atMost(Duration.ofSeconds(20)).until(() -> caughtUp(processor, 2, engine.createHeadToken()));
        for (List<EventMessage<?>> events : List.of(before, between, after)) {
            assertThat(events).allSatisfy(e -> assertThat(timesCounted(e)).isEqualTo(1));
        }
        assertThat(handler.calls.get()).isEqualTo(30);
    }

    /**
     * Two segments whose tokens are incomparable, as handovers leave them: segment 0 has passed shard 0 up to
     * position 4 and shard 1 up to 1, segment 1 the reverse. Axon's pooled processor opens one stream for both from the
     * lower bound of their tokens and lets each skip only the events its own token covers. With one number per shard
     * that went wrong: segment 0 took the stream's token [2,2] as its own and handled shard 0's positions 3 and 4
     * again.
     * Each event must be handled exactly when its segment's token does not cover it.
     */
    @Test
    void segmentsWhoseTokensAreIncomparableEachHandleExactlyWhatTheirTokenDoesNotCover() {
        // keys decide the segment: each shard holds events of both segments, on both sides of each token
        EventMessage<?>[][] placed = place(new int[][] {{1, 0, 1, 0, 1, 0}, {0, 1, 0, 1, 0, 1}});
        long[][] tokens = {{4, 1}, {1, 4}};
        initializeSegments(tokens);

        var processor = keyedProcessor("a", new CountingHandler("a"), 2, 2, Clock.systemUTC());

        TrackingToken head = engine.createHeadToken();
        await().atMost(Duration.ofSeconds(30)).until(() -> caughtUp(processor, 2, head));
        assertThat(counts(all(placed))).isEqualTo(expectedCounts(placed, tokens));
    }

    /**
     * Two processor instances share four segments that start from four different positions (what earlier handovers
     * leave behind), while more events arrive; each event is handled exactly once, or never if its segment's token
     * already covered it.
     */
    @Test
    void twoProcessorInstancesShareSegmentsAtDifferentPositionsAndEachEventIsHandledOnce() {
        EventMessage<?>[][] placed = place(new int[][] {{1, 3, 1, 0, 2, 3, 0, 1}, {0, 2, 0, 1, 3, 2, 3, 2}});
        long[][] tokens = {{4, 1}, {1, 4}, {5, 1}, {1, 5}};
        initializeSegments(tokens);
        var handlerA = new CountingHandler("a");
        var handlerB = new CountingHandler("b");
        var a = keyedProcessor("a", handlerA, 4, 2, Clock.systemUTC());
        await().atMost(Duration.ofSeconds(20)).until(() -> a.processingStatus().keySet().equals(Set.of(0, 1)));
        var b = keyedProcessor("b", handlerB, 4, 2, Clock.systemUTC());
        await().atMost(Duration.ofSeconds(20)).until(() -> b.processingStatus().keySet().equals(Set.of(2, 3)));

        List<EventMessage<?>> live = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            var event = PlacedEvents.event(i % 2, 2, i % 4, Instant.now(), "live " + i);
            live.add(event);
            eventStore.publish(event);
        }

        TrackingToken head = engine.createHeadToken();
        await().atMost(Duration.ofSeconds(30)).until(() -> caughtUp(a, 2, head) && caughtUp(b, 2, head));
        Map<String, Integer> expected = expectedCounts(placed, tokens);
        live.forEach(e -> expected.put(label(e), 1));
        List<EventMessage<?>> events = new ArrayList<>(all(placed));
        events.addAll(live);
        assertThat(counts(events)).isEqualTo(expected);
        assertThat(handlerA.handledBy).isNotEmpty();
        assertThat(handlerB.handledBy).isNotEmpty();
        assertThat(Set.copyOf(handlerA.handledBy.keySet())).doesNotContainAnyElementsOf(handlerB.handledBy.keySet());
    }

    /**
     * A handover between nodes. Node a works on segment 0 and reads x as it is appended; y is appended after x but
     * carries an earlier timestamp (its writer's clock is behind), so node c, starting later on segment 1, reads y
     * before x. Each node stores its token with the event it handled: segment 0 at [1,0], segment 1 at [0,1], and
     * neither covers the other. Both nodes stop, more events are appended, and node b takes over both segments. Every
     * event is handled exactly once in total: by node b only the new ones.
     */
    @Test
    void aNodeTakingOverSegmentsOfNodesThatStoppedHandlesEveryEventExactlyOnceInTotal() {
        Instant t = Instant.parse("2026-03-01T10:00:00Z");
        // the processors' own clocks stand still: a work package stores a token only with an event it handled
        Clock stopped = new MutableClock(Instant.now());
        var handlerA = new CountingHandler("a");
        var handlerC = new CountingHandler("c");
        var handlerB = new CountingHandler("b");

        var a = keyedProcessor("a", handlerA, 2, 1, stopped);
        await().atMost(Duration.ofSeconds(20)).until(() -> a.processingStatus().keySet().equals(Set.of(0)));
        var x = PlacedEvents.event(0, 2, 0, t.plusMillis(100), "x");
        eventStore.publish(x);
        await().atMost(Duration.ofSeconds(20)).until(() -> timesCounted(x) == 1);
        var y = PlacedEvents.event(1, 2, 1, t.plusMillis(50), "y");
        eventStore.publish(y);
        var c = keyedProcessor("c", handlerC, 2, 1, stopped);
        await().atMost(Duration.ofSeconds(20)).until(() -> timesCounted(y) == 1);
        TrackingToken both = engine.createHeadToken();
        await().atMost(Duration.ofSeconds(20)).until(() -> caughtUp(a, 1, both) && caughtUp(c, 1, both));
        a.shutDown();
        c.shutDown();
        assertThat(tokenStoreView().storedToken("counting", 0)).isEqualTo(new DynamoTrackingToken(new long[] {1, 0}));
        assertThat(tokenStoreView().storedToken("counting", 1)).isEqualTo(new DynamoTrackingToken(new long[] {0, 1}));

        List<EventMessage<?>> later = List.of(
                PlacedEvents.event(0, 2, 1, t.plusMillis(300), "z1"),
                PlacedEvents.event(1, 2, 0, t.plusMillis(310), "z2"),
                PlacedEvents.event(0, 2, 0, t.plusMillis(320), "z3"),
                PlacedEvents.event(1, 2, 1, t.plusMillis(330), "z4"));
        eventStore.publish(later);
        var b = keyedProcessor("b", handlerB, 2, 2, Clock.systemUTC());

        TrackingToken head = engine.createHeadToken();
        await().atMost(Duration.ofSeconds(30)).until(() -> caughtUp(b, 2, head));
        List<EventMessage<?>> events = new ArrayList<>(List.of(x, y));
        events.addAll(later);
        assertThat(counts(events)).containsOnly(
                Map.entry("x", 1), Map.entry("y", 1), Map.entry("z1", 1), Map.entry("z2", 1), Map.entry("z3", 1),
                Map.entry("z4", 1));
        assertThat(handlerA.handledBy).containsOnlyKeys(x.getIdentifier());
        assertThat(handlerC.handledBy).containsOnlyKeys(y.getIdentifier());
        assertThat(handlerB.handledBy.keySet()).containsExactlyInAnyOrderElementsOf(
                later.stream().map(EventMessage::getIdentifier).toList());
    }

    private static List<EventMessage<?>> all(EventMessage<?>[][] placed) {
        List<EventMessage<?>> all = new ArrayList<>();
        for (EventMessage<?>[] shard : placed) {
            all.addAll(List.of(shard));
        }
        return all;
    }

    private DynamoTokenStore tokenStoreView() {
        return new DynamoTokenStore(TestTables.dynamoDb(), tables.name(DagyTable.TOKENS), TestSerializer.jackson(),
                "observer", Duration.ofSeconds(10), Clock.systemUTC());
    }

    /**
     * Crashes the commit of transactions that carry a handler's effect: first some before anything is written, then
     * some after DynamoDB has written everything but before the processor hears of it (a lost response).
     */
    static final class CrashingTransactions implements TransactionManager {
        private static final ThreadLocal<Boolean> EFFECT = ThreadLocal.withInitial(() -> false);
        final AtomicInteger crashesBefore;
        final AtomicInteger crashesAfter;
        private final TransactionManager delegate;

        CrashingTransactions(TransactionManager delegate, int before, int after) {
            this.delegate = delegate;
            this.crashesBefore = new AtomicInteger(before);
            this.crashesAfter = new AtomicInteger(after);
        }

        static void effectWritten() {
            EFFECT.set(true);
        }

        @Override
        public Transaction startTransaction() {
            Transaction transaction = delegate.startTransaction();
            return new Transaction() {
                @Override
                public void commit() {
                    boolean effect = EFFECT.get();
                    EFFECT.remove();
                    if (effect && crashesBefore.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        throw new IllegalStateException("crash before the commit");
                    }
                    transaction.commit();
                    if (effect && crashesAfter.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        throw new IllegalStateException("crash after the commit, before the processor knew");
                    }
                }

                @Override
                public void rollback() {
                    EFFECT.remove();
                    transaction.rollback();
                }
            };
        }
    }
}
