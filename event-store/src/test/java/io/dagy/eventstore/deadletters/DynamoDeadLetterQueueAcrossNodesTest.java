package io.dagy.eventstore.deadletters;

import io.dagy.eventstore.support.MutableClock;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tx.DynamoTransactionException;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.deadletter.Decisions;
import org.axonframework.messaging.deadletter.GenericDeadLetter;
import org.axonframework.messaging.deadletter.ThrowableCause;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the queue must get right because several nodes share it and processors park inside their transactions:
 * exclusive retries, claims that expire, parking that commits with the batch or not at all, and races between a
 * batch that parks behind a sequence and a retry that empties it.
 */
class DynamoDeadLetterQueueAcrossNodesTest {

    /** One table for the class; every test has a processing group of its own. */
    private static final TestTables TABLES = TestTables.create(DagyTable.DEAD_LETTERS);
    private static final Duration CLAIM = Duration.ofMinutes(10);

    record Happened(String sequence, int n) {
    }

    private final String group = "run-orchestration-" + UUID.randomUUID();
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));
    private final DynamoSequencedDeadLetterQueue nodeA = queue();
    private final DynamoSequencedDeadLetterQueue nodeB = queue();
    private final DynamoTransactionManager transactions = new DynamoTransactionManager(TestTables.dynamoDb());

    private DynamoSequencedDeadLetterQueue queue() {
        return DynamoSequencedDeadLetterQueue.builder()
                .dynamoDb(TestTables.dynamoDb())
                .table(TABLES.name(DagyTable.DEAD_LETTERS))
                .processingGroup(group)
                .eventSerializer(TestSerializer.jackson())
                .serializer(TestSerializer.jackson())
                .maxSequenceSize(1000)
                .claimDuration(CLAIM)
                .clock(clock)
                .build();
    }

    private DeadLetter<EventMessage<?>> letter(String sequence, int n, boolean failed) {
        return new GenericDeadLetter<>(sequence, GenericEventMessage.asEventMessage(new Happened(sequence, n)),
                failed ? new ThrowableCause(new IllegalStateException("poison")) : null, clock.instant(), clock.instant(),
                MetaData.emptyInstance());
    }

    private static int n(DeadLetter<? extends EventMessage<?>> letter) {
        return ((Happened) letter.message().getPayload()).n();
    }

    private static String sequenceOf(DeadLetter<? extends EventMessage<?>> letter) {
        return ((Happened) letter.message().getPayload()).sequence();
    }

    @Test
    void twoNodesRetryingAtOnceNeverHandleOneSequenceTogetherAndHandleEveryLetterOnceInOrder() throws Exception {
        List<String> sequences = new ArrayList<>();
        for (int s = 0; s < 6; s++) {
            String sequence = "r-" + s + "-" + UUID.randomUUID();
            sequences.add(sequence);
            nodeA.enqueue(sequence, letter(sequence, 0, true));
            for (int n = 1; n < 4; n++) {
                nodeA.enqueue(sequence, letter(sequence, n, false));
            }
        }
        Set<String> inProgress = ConcurrentHashMap.newKeySet();
        List<String> overlaps = new CopyOnWriteArrayList<>();
        Map<String, List<Integer>> handled = new ConcurrentHashMap<>();
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (DynamoSequencedDeadLetterQueue node : List.of(nodeA, nodeB, nodeA, nodeB)) {
                workers.add(threads.submit(() -> {
                    while (node.size() > 0) {
                        node.process(letter -> {
                            String sequence = sequenceOf(letter);
                            if (!inProgress.add(sequence)) {
                                overlaps.add(sequence);
                            }
                            handled.computeIfAbsent(sequence, k -> new CopyOnWriteArrayList<>()).add(n(letter));
                            inProgress.remove(sequence);
                            return Decisions.evict();
                        });
                    }
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }

        assertThat(overlaps).isEmpty();
        assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(sequences);
        handled.values().forEach(ns -> assertThat(ns).containsExactly(0, 1, 2, 3));
        assertThat(nodeA.amountOfSequences()).isZero();
    }

    @Test
    void aRetryThatStopsRespondingLosesItsClaimWhenItExpiresAndAnotherNodeTakesTheSequenceOver() throws Exception {
        String sequence = "r-" + UUID.randomUUID();
        nodeA.enqueue(sequence, letter(sequence, 0, true));
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> stuck = CompletableFuture.supplyAsync(() -> nodeA.process(letter -> {
            holding.countDown();
            awaitQuietly(release);
            return Decisions.requeue(new IllegalStateException("too late"));
        }));
        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
        List<Integer> handledByB = new ArrayList<>();

        assertThat(nodeB.process(letter -> {
            handledByB.add(n(letter));
            return Decisions.evict();
        })).isFalse();
        assertThat(nodeB.sequence(sequence).orElseThrow().claimed()).isTrue();
        clock.advance(CLAIM.plusSeconds(1));
        assertThat(nodeB.sequence(sequence).orElseThrow().claimed()).isFalse();
        assertThat(nodeB.process(letter -> {
            handledByB.add(n(letter));
            return Decisions.evict();
        })).isTrue();

        assertThat(handledByB).containsExactly(0);
        release.countDown();
        stuck.get(10, TimeUnit.SECONDS);
        assertThat(nodeA.contains(sequence)).isFalse();
    }

    @Test
    void parkingJoinsTheOpenTransactionAndIsVisibleToLaterEventsOfTheSameBatch() {
        String sequence = "r-" + UUID.randomUUID();
        Transaction batch = transactions.startTransaction();

        nodeA.enqueue(sequence, letter(sequence, 0, true));

        assertThat(nodeB.contains(sequence)).as("another node sees nothing before the commit").isFalse();
        assertThat(nodeA.contains(sequence)).as("the batch sees its own letter").isTrue();
        assertThat(nodeA.enqueueIfPresent(sequence, () -> letter(sequence, 1, false))).isTrue();
        assertThat(nodeA.sequenceSize(sequence)).isEqualTo(2);
        batch.commit();

        assertThat(nodeB.deadLetterSequence(sequence)).extracting(DynamoDeadLetterQueueAcrossNodesTest::n)
                .containsExactly(0, 1);
    }

    /** A batch replayed after a crash between the parts of its commit parks its events again: they are there once. */
    @Test
    void aReplayedBatchParkingEventsThatAreParkedAlreadyCommitsAndStoresThemOnce() {
        String sequence = "r-" + UUID.randomUUID();
        DeadLetter<EventMessage<?>> first = letter(sequence, 0, true);
        DeadLetter<EventMessage<?>> second = letter(sequence, 1, false);
        Transaction original = transactions.startTransaction();
        nodeA.enqueue(sequence, first);
        nodeA.enqueue(sequence, second);
        original.commit();

        Transaction replay = transactions.startTransaction();
        nodeA.enqueue(sequence, first);
        assertThat(nodeA.enqueueIfPresent(sequence, () -> second)).isTrue();
        replay.commit();

        assertThat(nodeB.deadLetterSequence(sequence)).extracting(DynamoDeadLetterQueueAcrossNodesTest::n)
                .containsExactly(0, 1);
        assertThat(nodeB.sequenceSize(sequence)).isEqualTo(2);
    }

    @Test
    void aBatchThatRollsBackParksNothing() {
        String sequence = "r-" + UUID.randomUUID();
        Transaction batch = transactions.startTransaction();
        nodeA.enqueue(sequence, letter(sequence, 0, true));

        batch.rollback();

        assertThat(nodeA.contains(sequence)).isFalse();
        assertThat(nodeA.size()).isZero();
    }

    @Test
    void aBatchParkingBehindASequenceThatARetryEmptiedMeanwhileFailsAndParksNothing() {
        String sequence = "r-" + UUID.randomUUID();
        nodeB.enqueue(sequence, letter(sequence, 0, true));
        Transaction batch = transactions.startTransaction();
        assertThat(nodeA.enqueueIfPresent(sequence, () -> letter(sequence, 1, false))).isTrue();

        assertThat(DynamoTransactionManager.outside(() -> nodeB.process(letter -> Decisions.evict()))).isTrue();

        assertThatThrownBy(batch::commit).isInstanceOf(DynamoTransactionException.class);
        assertThat(nodeA.contains(sequence)).as("the batch is retried and handles its event").isFalse();
    }

    @Test
    void aLetterParkedBehindASequenceWhileItIsRetriedIsHandledByThatRetry() {
        String sequence = "r-" + UUID.randomUUID();
        nodeA.enqueue(sequence, letter(sequence, 0, true));
        List<Integer> handled = new ArrayList<>();

        boolean emptied = nodeB.process(letter -> {
            if (n(letter) == 0) {
                // the live processor, on another node, parks the next event of the run behind it
                CompletableFuture.runAsync(() -> nodeA.enqueueIfPresent(sequence, () -> letter(sequence, 1, false)))
                        .join();
            }
            handled.add(n(letter));
            return Decisions.evict();
        });

        assertThat(emptied).isTrue();
        assertThat(handled).containsExactly(0, 1);
        assertThat(nodeA.contains(sequence)).isFalse();
    }

    @Test
    void aRetryCommitsEachLettersEffectsWithItsEvictionInATransactionOfItsOwn() {
        String sequence = "r-" + UUID.randomUUID();
        nodeA.enqueue(sequence, letter(sequence, 0, true));
        nodeA.enqueue(sequence, letter(sequence, 1, false));
        Transaction caller = transactions.startTransaction();
        List<Boolean> ownTransaction = new ArrayList<>();

        boolean emptied = nodeA.process(letter -> {
            ownTransaction.add(DynamoTransactionManager.current().isPresent());
            return n(letter) == 0 ? Decisions.evict() : Decisions.requeue(new IllegalStateException("still"));
        });
        caller.rollback();

        assertThat(emptied).isFalse();
        assertThat(ownTransaction).containsExactly(true, true);
        assertThat(nodeB.deadLetterSequence(sequence)).extracting(DynamoDeadLetterQueueAcrossNodesTest::n)
                .containsExactly(1);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
