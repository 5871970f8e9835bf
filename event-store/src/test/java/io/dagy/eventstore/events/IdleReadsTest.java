package io.dagy.eventstore.events;

import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.common.stream.BlockingStream;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.serialization.Serializer;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tailing stream of a quiet store reads each shard once per idle interval, however often it is asked (Axon's
 * producer asks every poll interval), and reads at once after an append of this engine; another engine's (node's)
 * events are seen within the interval.
 */
class IdleReadsTest {

    record Noted(int step) {
    }

    private static final Duration IDLE = Duration.ofMillis(600);

    private final Serializer serializer = TestSerializer.jackson();
    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS);
    private final AtomicInteger streamQueries = new AtomicInteger();
    private final AtomicInteger counterReads = new AtomicInteger();
    private final AtomicInteger counterBatches = new AtomicInteger();
    private final Map<String, Integer> queriesByShard = new ConcurrentHashMap<>();
    private final ExecutionInterceptor counting = new ExecutionInterceptor() {
        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (context.request() instanceof QueryRequest query && query.keyConditionExpression() != null
                    && query.expressionAttributeValues().values().stream()
                    .anyMatch(value -> value.s() != null && value.s().startsWith("stream#"))) {
                streamQueries.incrementAndGet();
                query.expressionAttributeValues().values().stream().map(AttributeValue::s)
                        .filter(value -> value != null && value.startsWith("stream#"))
                        .forEach(stream -> queriesByShard.merge(stream.split("#")[1], 1, Integer::sum));
            }
            if (context.request() instanceof software.amazon.awssdk.services.dynamodb.model.GetItemRequest get
                    && get.key().get("pk").s() != null && get.key().get("pk").s().startsWith("counter#")) {
                counterReads.incrementAndGet();
            }
            if (context.request() instanceof software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest) {
                counterBatches.incrementAndGet();
            }
        }
    };

    private DynamoEventStorageEngine engine(Duration idle, ExecutionInterceptor... interceptors) {
        return engine(2, idle, Duration.ZERO, interceptors);
    }

    private DynamoEventStorageEngine engine(int shards, Duration idle, Duration busy, ExecutionInterceptor... interceptors) {
        return engine(shards, idle, busy, Duration.ofMillis(300), DynamoEventStorageEngine.AppendHook.NONE, interceptors);
    }

    private DynamoEventStorageEngine engine(int shards, Duration idle, Duration busy, Duration gapTimeout,
                                            DynamoEventStorageEngine.AppendHook hook, ExecutionInterceptor... interceptors) {
        return DynamoEventStorageEngine.builder()
                .appendHook(hook)
                .dynamoDb(TestTables.dynamoDbWith(interceptors))
                .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                .settings(EventStoreSettings.defaults().withShards(shards).withGapTimeout(gapTimeout))
                .eventSerializer(serializer).snapshotSerializer(serializer)
                .idleReadInterval(idle)
                .busyReadInterval(busy)
                .build();
    }

    private static DomainEventMessage<Noted> event(String aggregate, long sequence) {
        return new GenericDomainEventMessage<>("Thing", aggregate, sequence, new Noted((int) sequence));
    }

    /** Asks the stream for more every 20 ms for {@code millis}, as a polling producer would; answers what it got. */
    private static List<TrackedEventMessage<?>> poll(BlockingStream<TrackedEventMessage<?>> stream, long millis)
            throws InterruptedException {
        List<TrackedEventMessage<?>> got = new ArrayList<>();
        long end = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < end) {
            while (stream.hasNextAvailable()) {
                got.add(stream.nextAvailable());
            }
            Thread.sleep(20);
        }
        return got;
    }

    @Test
    void aQuietStreamReadsOncePerIntervalAndAtOnceAfterALocalAppend() throws Exception {
        DynamoEventStorageEngine node = engine(IDLE, counting);
        node.appendEvents(List.of(event("a", 0)));
        EmbeddedEventStore store = polling(node);
        try (BlockingStream<TrackedEventMessage<?>> stream = store.openStream(null)) {
            assertThat(poll(stream, 300)).hasSize(1);
            poll(stream, 2 * IDLE.toMillis() + 200); // the store goes quiet

            streamQueries.set(0);
            counterReads.set(0);
            counterBatches.set(0);
            assertThat(poll(stream, 1_800)).isEmpty();
            // 90 asks in 1.8 s: one look at both shards' counters per interval (decision 87), in one request, and
            // no query of a shard whose counter did not move
            assertThat(counterBatches.get()).isBetween(1, 4);
            assertThat(streamQueries.get()).isZero();
            // nor a counter read of its own
            assertThat(counterReads.get()).isZero();

            long appendedAt = System.nanoTime();
            node.appendEvents(List.of(event("a", 1)));
            List<TrackedEventMessage<?>> after = new ArrayList<>();
            while (after.isEmpty() && System.nanoTime() - appendedAt < 2_000_000_000L) {
                after.addAll(poll(stream, 20));
            }
            assertThat(after).hasSize(1);
            assertThat((System.nanoTime() - appendedAt) / 1_000_000).isLessThan(IDLE.toMillis() / 2);
        } finally {
            store.shutDown();
        }
    }

    /**
     * A busy store: every 50 ms this engine appends to one aggregate (one shard of four) while the producer asks every
     * 20 ms. Each commit costs a read of the shard it wrote (the other three are read once per busy interval), not a
     * read of all four shards on every ask, nor a second query to learn that a read reached the tail.
     */
    @Test
    void aBusyStreamReadsTheShardsThisEngineWroteAndTheOthersOncePerInterval() throws Exception {
        Duration busy = Duration.ofMillis(200);
        DynamoEventStorageEngine node = engine(4, IDLE, busy, counting);
        DynamoEventStorageEngine otherNode = engine(4, Duration.ZERO, Duration.ZERO);
        node.appendEvents(List.of(event("a", 0)));
        EmbeddedEventStore store = polling(node);
        try (BlockingStream<TrackedEventMessage<?>> stream = store.openStream(null)) {
            assertThat(poll(stream, 300)).hasSize(1);

            streamQueries.set(0);
            counterBatches.set(0);
            queriesByShard.clear();
            List<TrackedEventMessage<?>> got = new ArrayList<>();
            for (int sequence = 1; sequence <= 20; sequence++) {
                node.appendEvents(List.of(event("a", sequence)));
                got.addAll(poll(stream, 50));
            }
            got.addAll(poll(stream, 100));

            assertThat(got).hasSize(20);
            // 1.1 s: the shards' counters about every 200 ms (one request for all four), a query of a shard only when
            // its counter moved past the reader, and slack for reads that crossed a commit; asking all four shards on
            // each of the 55 asks would take 220
            assertThat(streamQueries.get() + counterBatches.get()).isBetween(1, 40);
            // and the 20 commits of this engine come from memory, not one query each (decision 91)
            assertThat(queriesByShard.values()).allSatisfy(queries -> assertThat(queries).isLessThan(15));

            // another node's event, in whatever shard, is seen within the busy interval
            otherNode.appendEvents(List.of(event("b", 0)));
            long appendedAt = System.nanoTime();
            List<TrackedEventMessage<?>> remote = new ArrayList<>();
            long sequence = 21;
            while (remote.isEmpty() && System.nanoTime() - appendedAt < 5_000_000_000L) {
                node.appendEvents(List.of(event("a", sequence++)));
                remote.addAll(poll(stream, 20).stream()
                        .filter(e -> ((DomainEventMessage<?>) e).getAggregateIdentifier().equals("b")).toList());
            }
            assertThat(remote).hasSize(1);
            assertThat((System.nanoTime() - appendedAt) / 1_000_000).isLessThan(busy.toMillis() + 300);
        } finally {
            store.shutDown();
        }
    }

    /**
     * This engine's commits come from memory only where they follow the reader's position: another node's event
     * between two of them is read from the table, in its place (decision 91).
     */
    @Test
    void anotherNodesEventBetweenThisEnginesCommitsIsReadInItsPlace() throws Exception {
        DynamoEventStorageEngine node = engine(1, IDLE, Duration.ofMillis(200));
        DynamoEventStorageEngine otherNode = engine(1, Duration.ZERO, Duration.ZERO);
        EmbeddedEventStore store = polling(node);
        try (BlockingStream<TrackedEventMessage<?>> stream = store.openStream(null)) {
            node.appendEvents(List.of(event("a", 0)));
            List<TrackedEventMessage<?>> got = new ArrayList<>(poll(stream, 300));
            otherNode.appendEvents(List.of(event("b", 0)));
            node.appendEvents(List.of(event("a", 1)));
            node.appendEvents(List.of(event("a", 2)));
            long end = System.nanoTime() + 5_000_000_000L;
            while (got.size() < 4 && System.nanoTime() < end) {
                got.addAll(poll(stream, 20));
            }

            assertThat(got).extracting(e -> ((DomainEventMessage<?>) e).getAggregateIdentifier() + "/"
                    + ((DomainEventMessage<?>) e).getSequenceNumber()).containsExactly("a/0", "b/0", "a/1", "a/2");
        } finally {
            store.shutDown();
        }
    }

    /**
     * Two commits of this engine in one shard land out of order: the first holds its positions on the wire while the
     * second lands behind it. The reader, woken by the second, waits for the first rather than querying a gap it knows
     * is there (decision 100); once the first lands, both come from memory, in order, without a query.
     */
    @Test
    void aCommitLandingBehindThisEnginesWriteOnTheWireCostsNoQuery() throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // a gap timeout far beyond the test's steps: the reader must wait for the write, never fence it
        DynamoEventStorageEngine node = engine(1, IDLE, Duration.ofMillis(200), Duration.ofSeconds(5),
                holdingTheSlowWriter(held, release), counting);
        EmbeddedEventStore store = polling(node);
        var slow = Executors.newSingleThreadExecutor(task -> new Thread(task, SLOW_WRITER));
        try (BlockingStream<TrackedEventMessage<?>> stream = store.openStream(null)) {
            node.appendEvents(List.of(event("a", 0)));
            List<TrackedEventMessage<?>> got = new ArrayList<>(poll(stream, 300));
            streamQueries.set(0);
            counterReads.set(0);

            var first = slow.submit(() -> node.appendEvents(List.of(event("slow", 0))));
            assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
            node.appendEvents(List.of(event("a", 1)));
            got.addAll(poll(stream, 150)); // within the gap timeout: the reader must not pass the first's position
            assertThat(got).hasSize(1);
            release.countDown();
            first.get(5, TimeUnit.SECONDS);
            long end = System.nanoTime() + 5_000_000_000L;
            while (got.size() < 3 && System.nanoTime() < end) {
                got.addAll(poll(stream, 20));
            }

            assertThat(got).extracting(IdleReadsTest::name).containsExactly("a/0", "slow/0", "a/1");
            assertThat(streamQueries.get()).isZero();
            assertThat(counterReads.get()).isZero();
        } finally {
            release.countDown();
            slow.shutdownNow();
            store.shutDown();
        }
    }

    /**
     * A write of this engine stuck on the wire holds its own readers back only for the gap timeout: then they read the
     * shard as another node's readers would, fence the position, and the writer appends again at new positions. The
     * event is delivered once, and the commit behind it is not held back for ever.
     */
    @Test
    void aStuckWriteOfThisEngineIsFencedByItsOwnReaderAfterTheGapTimeout() throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DynamoEventStorageEngine node = engine(1, IDLE, Duration.ofMillis(200), Duration.ofMillis(300),
                holdingTheSlowWriter(held, release));
        EmbeddedEventStore store = polling(node);
        var slow = Executors.newSingleThreadExecutor(task -> new Thread(task, SLOW_WRITER));
        try (BlockingStream<TrackedEventMessage<?>> stream = store.openStream(null)) {
            var first = slow.submit(() -> node.appendEvents(List.of(event("slow", 0))));
            assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
            node.appendEvents(List.of(event("a", 0)));
            List<TrackedEventMessage<?>> got = new ArrayList<>();
            long end = System.nanoTime() + 5_000_000_000L;
            while (got.isEmpty() && System.nanoTime() < end) {
                got.addAll(poll(stream, 20)); // the gap timeout is 300 ms
            }
            assertThat(got).extracting(IdleReadsTest::name).containsExactly("a/0");

            release.countDown();
            first.get(5, TimeUnit.SECONDS); // fenced out, it appended again behind a/0
            end = System.nanoTime() + 5_000_000_000L;
            while (got.size() < 2 && System.nanoTime() < end) {
                got.addAll(poll(stream, 20));
            }
            got.addAll(poll(stream, 200));
            assertThat(got).extracting(IdleReadsTest::name).containsExactly("a/0", "slow/0");
        } finally {
            release.countDown();
            slow.shutdownNow();
            store.shutDown();
        }
    }

    private static final String SLOW_WRITER = "slow-writer";

    /** Holds the first append of the thread {@link #SLOW_WRITER} once it reserved its positions, until {@code release}. */
    private static DynamoEventStorageEngine.AppendHook holdingTheSlowWriter(CountDownLatch held,
                                                                           CountDownLatch release) {
        AtomicBoolean once = new AtomicBoolean();
        return (first, counts) -> {
            if (Thread.currentThread().getName().equals(SLOW_WRITER) && once.compareAndSet(false, true)) {
                held.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }

    private static String name(TrackedEventMessage<?> event) {
        return ((DomainEventMessage<?>) event).getAggregateIdentifier() + "/"
                + ((DomainEventMessage<?>) event).getSequenceNumber();
    }

    /** Axon's event store over the engine, its producer asking every 20 ms as production's does every 100 ms. */
    private static EmbeddedEventStore polling(DynamoEventStorageEngine engine) {
        return EmbeddedEventStore.builder().storageEngine(engine).fetchDelay(20).timeUnit(TimeUnit.MILLISECONDS).build();
    }

    @Test
    void anotherNodesEventIsSeenWithinTheInterval() throws Exception {
        DynamoEventStorageEngine reader = engine(IDLE);
        DynamoEventStorageEngine otherNode = engine(Duration.ZERO);
        EmbeddedEventStore store = polling(reader);
        try (BlockingStream<TrackedEventMessage<?>> stream = store.openStream(null)) {
            poll(stream, 2 * IDLE.toMillis() + 200);

            otherNode.appendEvents(List.of(event("b", 0)));
            long appendedAt = System.nanoTime();
            List<TrackedEventMessage<?>> got = new ArrayList<>();
            while (got.isEmpty() && System.nanoTime() - appendedAt < 5_000_000_000L) {
                got.addAll(poll(stream, 20));
            }

            assertThat(got).hasSize(1);
            assertThat((System.nanoTime() - appendedAt) / 1_000_000).isLessThan(IDLE.toMillis() + 500);
        } finally {
            store.shutDown();
        }
    }
}
