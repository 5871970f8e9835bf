package io.dagy.eventstore.events;

import io.dagy.eventstore.support.ConflictInjector;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.axonframework.modelling.command.ConcurrencyException;
import org.axonframework.serialization.Serializer;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class DynamoEventStorageEngineTest {

    record TaskNoted(String taskId, int step) {
    }

    record Blob(byte[] data) {
    }

    private final Serializer serializer = TestSerializer.jackson();
    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS);
    private final EventStoreSettings settings = EventStoreSettings.defaults().withShards(3)
            .withGapTimeout(Duration.ofMillis(300)).withBucketSize(100);

    private DynamoEventStorageEngine engine(DynamoEventStorageEngine.AppendHook hook) {
        return engine(hook, TestTables.dynamoDb());
    }

    private DynamoEventStorageEngine engine(DynamoEventStorageEngine.AppendHook hook, DynamoDbClient client) {
        return DynamoEventStorageEngine.builder()
                .dynamoDb(client)
                .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                .settings(settings)
                .eventSerializer(serializer)
                .snapshotSerializer(serializer)
                .appendHook(hook)
                .build();
    }

    private final DynamoEventStorageEngine engine = engine(DynamoEventStorageEngine.AppendHook.NONE);

    private static DomainEventMessage<TaskNoted> event(String aggregate, long sequence) {
        return new GenericDomainEventMessage<>("Task", aggregate, sequence, new TaskNoted(aggregate, (int) sequence));
    }

    /** Reads until the stream has nothing more right now. */
    private List<TrackedEventMessage<?>> readAll(DynamoEventStorageEngine reader, TrackingToken from) {
        try (var stream = reader.readEvents(from, false)) {
            return stream.collect(java.util.stream.Collectors.toList());
        }
    }

    private static List<String> ids(List<? extends EventMessage<?>> events) {
        return events.stream().map(EventMessage::getIdentifier).toList();
    }

    @Test
    void anAggregatesEventsAreReadBackInSequenceOrder() {
        engine.appendEvents(List.of(event("a", 0), event("a", 1)));
        engine.appendEvents(List.of(event("a", 2)));

        var loaded = engine.readEvents("a").asStream().map(e -> ((TaskNoted) e.getPayload()).step()).toList();

        assertThat(loaded).containsExactly(0, 1, 2);
        assertThat(engine.lastSequenceNumberFor("a")).hasValue(2L);
        assertThat(engine.readEvents("a", 2).asStream().count()).isEqualTo(1);
    }

    @Test
    void appendingASequenceNumberThatExistsIsAConcurrencyConflictAndWritesNothing() {
        engine.appendEvents(List.of(event("b", 0), event("b", 1)));

        assertThatThrownBy(() -> engine.appendEvents(List.of(event("b", 1), event("b", 2))))
                .isInstanceOf(ConcurrencyException.class);
        assertThatThrownBy(() -> engine.appendEvents(List.of(event("b", 0))))
                .isInstanceOf(AggregateStreamCreationException.class);
        assertThat(engine.lastSequenceNumberFor("b")).hasValue(1L);
        assertThat(readAll(engine, null)).hasSize(2);
    }

    @Test
    void ofTwoWritersAppendingTheSameSequenceAtOnceExactlyOneSucceeds() throws Exception {
        engine.appendEvents(List.of(event("c", 0)));
        CyclicBarrier bothReserved = new CyclicBarrier(2);
        DynamoEventStorageEngine.AppendHook waitForOther = (first, counts) -> {
            try {
                bothReserved.await(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        var nodeA = engine(waitForOther);
        var nodeB = engine(waitForOther);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> a = pool.submit(() -> nodeA.appendEvents(List.of(event("c", 1))));
            Future<?> b = pool.submit(() -> nodeB.appendEvents(List.of(event("c", 1))));
            List<Throwable> failures = new ArrayList<>();
            for (Future<?> f : List.of(a, b)) {
                try {
                    f.get(20, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    failures.add(e.getCause());
                }
            }
            assertThat(failures).singleElement().isInstanceOf(ConcurrencyException.class);
        } finally {
            pool.shutdownNow();
        }
        assertThat(engine.readEvents("c").asStream().count()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(readAll(engine, null)).hasSize(2));
    }

    @Test
    void trackingDeliversEveryEventOnceWithTokensThatResumeWhereTheyStopped() {
        List<EventMessage<?>> written = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            var domain = event("agg-" + (i % 7), i / 7);
            var plain = GenericEventMessage.asEventMessage(new TaskNoted("plain-" + i, i));
            engine.appendEvents(List.of(domain, plain));
            written.add(domain);
            written.add(plain);
        }

        var all = readAll(engine, null);
        var firstTen = all.subList(0, 10);
        var rest = readAll(engine, firstTen.get(9).trackingToken());

        assertThat(ids(all)).containsExactlyInAnyOrderElementsOf(ids(written));
        assertThat(ids(rest)).containsExactlyElementsOf(ids(all.subList(10, all.size())));
        assertThat(all.get(1).getPayload()).isInstanceOf(TaskNoted.class);
    }

    @Test
    void anAppendDelayedFarPastTheGapTimeoutIsNeverSkipped() throws Exception {
        CountDownLatch readerPassedTheGap = new CountDownLatch(1);
        AtomicReference<Integer> delays = new AtomicReference<>(1);
        var slowWriter = engine((first, counts) -> {
            if (delays.getAndSet(0) == 1) {
                try {
                    // the first attempt stalls until a reader has fenced its position and moved on
                    assertThat(readerPassedTheGap.await(20, TimeUnit.SECONDS)).isTrue();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        var delayed = event("slow", 0);
        int shard = engine.shardOf("slow");
        String sameShardAggregate = IntStream.range(0, 1000).mapToObj(i -> "fast-" + i)
                .filter(id -> engine.shardOf(id) == shard).findFirst().orElseThrow();

        Future<?> slowAppend = Executors.newSingleThreadExecutor().submit(() -> slowWriter.appendEvents(List.of(delayed)));
        await().atMost(Duration.ofSeconds(5)).until(() -> engine.createHeadToken().covers(
                new DynamoTrackingToken(new long[3]).advancedTo(shard, 1)));
        var fast = event(sameShardAggregate, 0);
        engine.appendEvents(List.of(fast));

        List<TrackedEventMessage<?>> seen = Collections.synchronizedList(new ArrayList<>());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            seen.clear();
            seen.addAll(readAll(engine, null));
            assertThat(ids(seen)).contains(fast.getIdentifier());
        });
        assertThat(ids(seen)).doesNotContain(delayed.getIdentifier());
        TrackingToken afterFast = seen.get(seen.size() - 1).trackingToken();
        readerPassedTheGap.countDown();
        slowAppend.get(20, TimeUnit.SECONDS); // acknowledged, on a retry at a new position

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(ids(readAll(engine, afterFast))).containsExactly(delayed.getIdentifier()));
    }

    @Test
    void positionsOfAWriterKilledAfterReservingAreFencedSoReadersMoveOnAndNothingLandsThereLater() {
        Map<Integer, Long> reserved = new HashMap<>();
        var dyingWriter = engine((first, counts) -> {
            reserved.putAll(first);
            throw new IllegalStateException("writer killed");
        });
        assertThatThrownBy(() -> dyingWriter.appendEvents(List.of(event("dead", 0)))).hasMessage("writer killed");
        int shard = reserved.keySet().iterator().next();
        long position = reserved.get(shard);
        String sameShard = IntStream.range(0, 1000).mapToObj(i -> "alive-" + i)
                .filter(id -> engine.shardOf(id) == shard).findFirst().orElseThrow();
        var alive = event(sameShard, 0);
        engine.appendEvents(List.of(alive));

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(ids(readAll(engine, null))).containsExactly(alive.getIdentifier()));

        var item = TestTables.dynamoDb().getItem(b -> b.tableName(tables.name(DagyTable.EVENTS)).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS("stream#" + shard + "#" + position / 100),
                        "sk", AttributeValue.fromN(Long.toString(position))))).item();
        assertThat(item).containsEntry("fence", AttributeValue.fromBool(true));
    }

    /** Waits for every writer to reach this point, for a bounded time. */
    private static void inStep(Phaser phaser) throws Exception {
        phaser.awaitAdvanceInterruptibly(phaser.arrive(), 30, TimeUnit.SECONDS);
    }

    @Test
    void aReaderWhoseFenceConflictsWithATransactionPassesTheGapOnALaterRead() {
        Map<Integer, Long> reserved = new HashMap<>();
        var dyingWriter = engine((first, counts) -> {
            reserved.putAll(first);
            throw new IllegalStateException("writer killed");
        });
        assertThatThrownBy(() -> dyingWriter.appendEvents(List.of(event("dead", 0)))).hasMessage("writer killed");
        int shard = reserved.keySet().iterator().next();
        String sameShard = IntStream.range(0, 1000).mapToObj(i -> "alive-" + i)
                .filter(id -> engine.shardOf(id) == shard).findFirst().orElseThrow();
        var alive = event(sameShard, 0);
        engine.appendEvents(List.of(alive));
        ConflictInjector conflicts = ConflictInjector.on(PutItemRequest.class, 1);
        var reader = engine(DynamoEventStorageEngine.AppendHook.NONE, TestTables.dynamoDbWith(conflicts));

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(ids(readAll(reader, null))).containsExactly(alive.getIdentifier()));
        assertThat(conflicts.injected()).isEqualTo(1);
    }

    @Test
    void anAppendCancelledByATransactionConflictLandsAtNewPositionsAndReadersNeedNotWaitForTheOldOnes() {
        ConflictInjector conflicts = ConflictInjector.on(TransactWriteItemsRequest.class, 1);
        var writer = engine(DynamoEventStorageEngine.AppendHook.NONE, TestTables.dynamoDbWith(conflicts));
        var appended = event("conflicted", 0);

        writer.appendEvents(List.of(appended));

        assertThat(conflicts.injected()).isEqualTo(1);
        assertThat(ids(readAll(engine, null))).containsExactly(appended.getIdentifier());
    }

    @Test
    void aSnapshotWriteCancelledByATransactionConflictIsSentAgain() {
        ConflictInjector conflicts = ConflictInjector.on(TransactWriteItemsRequest.class, 1);
        var writer = engine(DynamoEventStorageEngine.AppendHook.NONE, TestTables.dynamoDbWith(conflicts));

        writer.storeSnapshot(new GenericDomainEventMessage<>("Task", "snap", 3, new TaskNoted("snap", 3)));

        assertThat(conflicts.injected()).isEqualTo(1);
        assertThat(engine.readSnapshot("snap")).isPresent();
    }

    @Test
    void eightWritersContendingForOneAggregateLoseNothingDuplicateNothingAndKeepEachAggregatesOrder() throws Exception {
        int writers = 8;
        int rounds = 15;
        // every round, all writers read the hot aggregate's last sequence, wait for each other, then append the next
        // two events to it: exactly one wins, seven conflict. Each writer also appends to aggregates of its own.
        Phaser lockstep = new Phaser(writers);
        ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
        List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
        List<String> hotAcknowledged = Collections.synchronizedList(new ArrayList<>());
        List<TrackedEventMessage<?>> delivered = Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger conflicts = new java.util.concurrent.atomic.AtomicInteger();
        CountDownLatch writersDone = new CountDownLatch(writers);
        List<Future<?>> writing = new ArrayList<>();
        try {
            Future<?> reader = pool.submit(() -> {
                TrackingToken token = null;
                while (writersDone.getCount() > 0 || delivered.size() < acknowledged.size()) {
                    var batch = readAll(engine, token);
                    if (!batch.isEmpty()) {
                        delivered.addAll(batch);
                        token = batch.get(batch.size() - 1).trackingToken();
                    }
                }
            });
            for (int w = 0; w < writers; w++) {
                int writer = w;
                var node = engine(DynamoEventStorageEngine.AppendHook.NONE); // each writer a node of its own
                writing.add(pool.submit(() -> {
                    try {
                        for (int round = 0; round < rounds; round++) {
                            long next = node.lastSequenceNumberFor("hot").map(last -> last + 1).orElse(0L);
                            inStep(lockstep);
                            var events = List.of(event("hot", next), event("hot", next + 1));
                            try {
                                node.appendEvents(events);
                                events.forEach(e -> hotAcknowledged.add(e.getIdentifier()));
                                events.forEach(e -> acknowledged.add(e.getIdentifier()));
                            } catch (ConcurrencyException | AggregateStreamCreationException lost) {
                                conflicts.incrementAndGet();
                            }
                            String own = "w" + writer + "-" + (round % 3);
                            var ownEvents = List.of(event(own, 2L * (round / 3)), event(own, 2L * (round / 3) + 1));
                            node.appendEvents(ownEvents);
                            ownEvents.forEach(e -> acknowledged.add(e.getIdentifier()));
                            inStep(lockstep); // nobody reads the next round's state early
                        }
                    } catch (Throwable failed) {
                        lockstep.forceTermination(); // the others stop waiting; this writer's failure fails the test
                        throw failed;
                    } finally {
                        writersDone.countDown();
                    }
                    return null;
                }));
            }
            for (Future<?> writer : writing) {
                writer.get(60, TimeUnit.SECONDS);
            }
            reader.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }

        // the hot aggregate holds exactly the winners' events: sequences 0..2*rounds-1, none lost, none twice
        var stored = engine.readEvents("hot").asStream().toList();
        assertThat(stored).extracting(DomainEventMessage::getSequenceNumber)
                .containsExactlyElementsOf(LongStream.range(0, 2L * rounds).boxed().toList());
        assertThat(ids(stored)).containsExactlyElementsOf(hotAcknowledged);
        assertThat(conflicts.get()).as("appends that lost the race").isEqualTo((writers - 1) * rounds);
        // tracking delivers every acknowledged event once, nothing else, each aggregate in sequence order
        assertThat(ids(delivered)).hasSize(acknowledged.size()).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(acknowledged);
        Map<String, Long> lastSequence = new HashMap<>();
        for (TrackedEventMessage<?> event : delivered) {
            var domain = (DomainEventMessage<?>) event;
            long previous = lastSequence.getOrDefault(domain.getAggregateIdentifier(), -1L);
            assertThat(domain.getSequenceNumber()).as("order of %s", domain.getAggregateIdentifier()).isEqualTo(previous + 1);
            lastSequence.put(domain.getAggregateIdentifier(), domain.getSequenceNumber());
        }
        assertThat(lastSequence).containsEntry("hot", 2L * rounds - 1);
    }

    @Test
    void tokensStayOneNumberPerShardHoweverManyGapsOccur() {
        var dyingWriter = engine((first, counts) -> {
            throw new IllegalStateException("killed");
        });
        for (int i = 0; i < 25; i++) {
            String aggregate = "gap-" + i;
            assertThatThrownBy(() -> dyingWriter.appendEvents(List.of(event(aggregate, 0))));
        }
        engine.appendEvents(List.of(event("after-gaps-0", 0), event("after-gaps-1", 0), event("after-gaps-2", 0)));

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(readAll(engine, null)).hasSize(3));
        var token = (DynamoTrackingToken) readAll(engine, null).get(2).trackingToken();
        assertThat(token.positions()).hasSize(3);
        assertThat(serializer.serialize(token, byte[].class).getData().length).isLessThan(64);
    }

    /**
     * What Axon's pooled processor does with one stream for several segments, event by event: each segment skips an
     * event its last token covers, else schedules it and takes its token (WorkPackage#scheduleEvent). The stream starts
     * at the lower bound of the segments' tokens (Coordinator), and opens again from the last token it delivered and the
     * new one when a segment is claimed while streaming.
     */
    private static final class PooledStream {
        final DynamoEventStorageEngine engine;
        final Map<String, TrackingToken> delivered = new HashMap<>();
        final Map<String, List<String>> handled = new HashMap<>();
        TrackingToken last;
        Iterator<? extends TrackedEventMessage<?>> events;

        PooledStream(DynamoEventStorageEngine engine) {
            this.engine = engine;
        }

        void claim(String segment, TrackingToken token) {
            delivered.put(segment, token);
            handled.put(segment, new ArrayList<>());
            TrackingToken position = org.axonframework.eventhandling.WrappedToken.unwrapLowerBound(token);
            TrackingToken start = last == null ? position : last.lowerBound(position);
            if (!start.equals(last)) {
                events = engine.readEvents(start, false).iterator();
                last = start;
            }
        }

        /** Delivers up to {@code count} events; false once the stream has nothing more for now. */
        boolean deliver(int count) {
            for (int i = 0; i < count; i++) {
                if (!events.hasNext()) {
                    events = engine.readEvents(last, false).iterator(); // as EmbeddedEventStore reopens it
                    if (!events.hasNext()) {
                        return false;
                    }
                }
                TrackedEventMessage<?> event = events.next();
                last = event.trackingToken();
                delivered.forEach((segment, token) -> {
                    if (!token.covers(event.trackingToken())) {
                        handled.get(segment).add(event.getIdentifier());
                        delivered.put(segment, event.trackingToken());
                    }
                });
            }
            return true;
        }

        void deliverAll() {
            while (deliver(1)) {
                // until caught up
            }
        }
    }

    private static List<String> notCoveredBy(Map<String, io.dagy.eventstore.support.PlacedEvents.Place> places,
                                             List<TrackedEventMessage<?>> inOrder, long... position) {
        DynamoTrackingToken token = new DynamoTrackingToken(position);
        return inOrder.stream().map(EventMessage::getIdentifier)
                .filter(id -> places.get(id).position() > token.position(places.get(id).shard())).toList();
    }

    @Test
    void oneStreamServesSegmentsAtIncomparablePositionsEachExactlyWithWhatItsPositionDoesNotCover() {
        // 3 shards with events and fences (killed writers, fenced by a reader), some fences at the ends of ranges
        var dyingWriter = engine((first, counts) -> {
            throw new IllegalStateException("killed");
        });
        Random random = new Random(7);
        int appended = 0;
        for (int i = 0; i < 60; i++) {
            String aggregate = "agg-" + random.nextInt(12) + "-" + i;
            if (random.nextInt(5) == 0) {
                assertThatThrownBy(() -> dyingWriter.appendEvents(List.of(event(aggregate, 0))));
            } else {
                engine.appendEvents(List.of(event(aggregate, 0)));
                appended++;
            }
        }
        for (int shard = 0; shard < 3; shard++) { // an event after the dead positions of every shard
            int s = shard;
            engine.appendEvents(List.of(event(IntStream.range(0, 1000).mapToObj(i -> "last-" + i)
                    .filter(id -> engine.shardOf(id) == s).findFirst().orElseThrow(), 0)));
            appended++;
        }
        int events = appended;
        await().atMost(Duration.ofSeconds(10)).until(() -> readAll(engine, null).size() == events);
        List<TrackedEventMessage<?>> all = readAll(engine, null);
        var places = io.dagy.eventstore.support.PlacedEvents.places(engine);
        DynamoTrackingToken head = (DynamoTrackingToken) engine.createHeadToken();

        var stream = new PooledStream(engine);
        long[][] positions = {{5, 1, 3}, {1, 5, 3}, {0, 0, 0}, {3, 3, 7}, head.positions(), {5, 1, 3}};
        for (int segment = 0; segment < positions.length; segment++) {
            stream.claim("s" + segment, new DynamoTrackingToken(positions[segment]));
        }
        stream.claim("replaying", org.axonframework.eventhandling.ReplayToken.createReplayToken(head,
                new DynamoTrackingToken(new long[] {2, 4, 1})));
        stream.deliver(17);
        stream.claim("late", new DynamoTrackingToken(new long[] {4, 0, 6})); // claimed mid-catch-up: reopens
        stream.deliverAll();

        for (int segment = 0; segment < positions.length; segment++) {
            assertThat(stream.handled.get("s" + segment))
                    .as("segment at %s", java.util.Arrays.toString(positions[segment]))
                    .doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(notCoveredBy(places, all, positions[segment]));
        }
        assertThat(stream.handled.get("replaying")).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(notCoveredBy(places, all, 2, 4, 1));
        assertThat(stream.handled.get("late")).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(notCoveredBy(places, all, 4, 0, 6));

        // events appended later reach every segment once, through the plain stream from the upper bound
        var later = List.of(event("later-a", 0), event("later-b", 0), event("later-c", 0));
        engine.appendEvents(later);
        stream.deliverAll();
        stream.handled.forEach((segment, ids) -> assertThat(ids).as(segment).doesNotHaveDuplicates()
                .containsAll(ids(later)));
        assertThat(stream.last).isInstanceOf(DynamoTrackingToken.class);
        stream.delivered.values().forEach(token -> assertThat(org.axonframework.eventhandling.WrappedToken
                .unwrapLowerBound(token).covers(engine.createHeadToken())).isTrue());
    }

    @Test
    void tailHeadAndAtTimeTokensStartWhereTheySay() {
        engine.appendEvents(List.of(event("t", 0), event("t", 1)));
        TrackingToken head = engine.createHeadToken();
        Instant between = Instant.now();
        engine.appendEvents(List.of(event("t", 2)));

        assertThat(readAll(engine, engine.createTailToken())).hasSize(3);
        assertThat(readAll(engine, head)).extracting(e -> ((DomainEventMessage<?>) e).getSequenceNumber()).containsExactly(2L);
        assertThat(readAll(engine, engine.createTokenAt(between)))
                .extracting(e -> ((DomainEventMessage<?>) e).getSequenceNumber()).containsExactly(2L);
        assertThat(readAll(engine, engine.createTokenAt(Instant.EPOCH))).hasSize(3);
    }

    @Test
    void aLargeButCompressibleEventIsStoredAndReadBackIntact() {
        byte[] data = "all work and no play ".repeat(40_000).getBytes(); // 840 KB, compresses well
        engine.appendEvents(List.of(new GenericDomainEventMessage<>("Blob", "big", 0, new Blob(data))));

        assertThat(((Blob) engine.readEvents("big").next().getPayload()).data()).isEqualTo(data);
        assertThat(((Blob) readAll(engine, null).get(0).getPayload()).data()).isEqualTo(data);
    }

    @Test
    void anEventTooLargeEvenCompressedIsRejectedBeforeAnythingIsWritten() {
        byte[] noise = new byte[450 * 1024];
        new Random(7).nextBytes(noise);
        var small = event("mixed", 0);
        var huge = new GenericDomainEventMessage<>("Blob", "mixed", 1, new Blob(noise));

        assertThatThrownBy(() -> engine.appendEvents(List.of(small, huge)))
                .isInstanceOf(EventTooLargeException.class).hasMessageContaining("Nothing was written");
        assertThat(engine.lastSequenceNumberFor("mixed")).isEmpty();
        assertThat(readAll(engine, null)).isEmpty();
    }

    @Test
    void aUnitOfWorkWithMoreEventsThanATransactionHoldsIsRejectedWhole() {
        List<EventMessage<?>> tooMany = new ArrayList<>();
        IntStream.range(0, 51).forEach(i -> tooMany.add(event("many", i)));

        assertThatThrownBy(() -> engine.appendEvents(tooMany)).isInstanceOf(EventTooLargeException.class)
                .hasMessageContaining("50 domain events");
        engine.appendEvents(tooMany.subList(0, 50));
        assertThat(engine.lastSequenceNumberFor("many")).hasValue(49L);
    }

    @Test
    void theLatestSnapshotIsKeptAndAnOlderOneNeverReplacesIt() {
        engine.storeSnapshot(new GenericDomainEventMessage<>("Task", "snap", 10, new TaskNoted("snap", 10)));
        engine.storeSnapshot(new GenericDomainEventMessage<>("Task", "snap", 4, new TaskNoted("snap", 4)));

        var snapshot = engine.readSnapshot("snap").orElseThrow();
        assertThat(snapshot.getSequenceNumber()).isEqualTo(10);
        assertThat(snapshot.getPayload()).isEqualTo(new TaskNoted("snap", 10));
        assertThat(engine.readSnapshot("no-such-aggregate")).isEmpty();
    }

    @Test
    void aSnapshotLargerThanAnItemIsSplitIntoChunksAndReassembled() {
        byte[] noise = new byte[900 * 1024];
        new Random(3).nextBytes(noise);
        engine.storeSnapshot(new GenericDomainEventMessage<>("Blob", "huge-snap", 99, new Blob(noise)));

        var snapshot = engine.readSnapshot("huge-snap").orElseThrow();
        assertThat(((Blob) snapshot.getPayload()).data()).isEqualTo(noise);
        assertThat(snapshot.getSequenceNumber()).isEqualTo(99);
    }

    @Test
    void tokensSurviveTheSerializerAlsoInsideAReplayToken() {
        var token = new DynamoTrackingToken(new long[] {3, 0, 17});
        TrackingToken replay = org.axonframework.eventhandling.ReplayToken.createReplayToken(token,
                new DynamoTrackingToken(new long[] {1, 0, 2}));

        var back = serializer.deserialize(serializer.serialize(replay, byte[].class));

        assertThat(back).isEqualTo(replay);
        assertThat(new DynamoTrackingToken(new long[] {3, 0})).isEqualTo(new DynamoTrackingToken(new long[] {3, 0, 0}));
        assertThat(token.covers(new DynamoTrackingToken(new long[] {3, 0, 18}))).isFalse();
        // the lower bound of two positions keeps both (a stream from it serves a segment at each), and stands for
        // their per-shard minimum where Axon compares it
        var both = token.lowerBound(new DynamoTrackingToken(new long[] {4, 0, 1}));
        assertThat(both).isInstanceOf(DynamoStreamStart.class);
        assertThat(((DynamoStreamStart) both).positions()).containsExactlyInAnyOrder(token,
                new DynamoTrackingToken(new long[] {4, 0, 1}));
        assertThat(((DynamoStreamStart) both).lowest()).isEqualTo(new DynamoTrackingToken(new long[] {3, 0, 1}));
        assertThat(both.samePositionAs(new DynamoTrackingToken(new long[] {3, 0, 1}))).isTrue();
        assertThat(token.lowerBound(new DynamoTrackingToken(new long[] {3, 0, 17}))).isSameAs(token);
        assertThat(token.upperBound(new DynamoTrackingToken(new long[] {4, 0, 1})))
                .isEqualTo(new DynamoTrackingToken(new long[] {4, 0, 17}));
    }

    @Test
    void eventsOfDifferentShardsAtTheSamePositionNeverCollide() {
        // plain events are spread over the shards by their ids, and every shard numbers its positions from 1: the same
        // position in three shards holds three different events
        List<String> appended = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            EventMessage<?> plain = GenericEventMessage.asEventMessage(new TaskNoted(UUID.randomUUID().toString(), i));
            engine.appendEvents(List.of(plain));
            appended.add(plain.getIdentifier());
        }

        assertThat(ids(readAll(engine, null))).hasSize(30).containsExactlyInAnyOrderElementsOf(appended);
        List<String> stored = new ArrayList<>();
        for (int shard = 0; shard < settings.shards(); shard++) {
            int s = shard;
            var items = TestTables.dynamoDb().query(b -> b.tableName(tables.name(DagyTable.EVENTS)).consistentRead(true)
                    .keyConditionExpression("pk = :pk")
                    .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("stream#" + s + "#0")))).items();
            // each shard's events at 1, 2, 3...: no position was lost to a collision (it would hold a fence or be skipped)
            assertThat(items).as("shard %d", shard).isNotEmpty().allSatisfy(item -> assertThat(item).doesNotContainKey("fence"));
            assertThat(items).extracting(item -> Long.parseLong(item.get("sk").n()))
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, items.size()).boxed().toList());
            items.forEach(item -> stored.add(item.get("eid").s()));
        }
        assertThat(stored).containsExactlyInAnyOrderElementsOf(appended);
    }
}
