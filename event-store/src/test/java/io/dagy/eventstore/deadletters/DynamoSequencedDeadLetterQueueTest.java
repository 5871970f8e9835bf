package io.dagy.eventstore.deadletters;

import io.dagy.eventstore.events.DynamoTrackingToken;
import io.dagy.eventstore.support.MutableClock;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.GenericTrackedDomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.ReplayToken;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.deadletter.DeadLetterQueueOverflowException;
import org.axonframework.messaging.deadletter.Decisions;
import org.axonframework.messaging.deadletter.EnqueueDecision;
import org.axonframework.messaging.deadletter.GenericDeadLetter;
import org.axonframework.messaging.deadletter.NoSuchDeadLetterException;
import org.axonframework.messaging.deadletter.ThrowableCause;
import org.axonframework.messaging.deadletter.WrongDeadLetterTypeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The contract of Axon's {@code SequencedDeadLetterQueue}, case by case as Axon's own {@code SequencedDeadLetterQueueTest}
 * (4.13) states it, on DynamoDB Local. What only a store shared by several nodes has to get right (claims, their
 * expiry, a letter stored twice) is in {@link DynamoDeadLetterQueueAcrossNodesTest}.
 */
class DynamoSequencedDeadLetterQueueTest {

    static final long MAX_SEQUENCES = 8;
    static final long MAX_SEQUENCE_SIZE = 64;

    record SomethingHappened(String what) {
    }

    /** One table for the class; every test has processing groups of its own, so tests never see each other's letters. */
    private static final TestTables TABLES = TestTables.create(DagyTable.DEAD_LETTERS);

    private final String prefix = "t" + UUID.randomUUID().toString().substring(0, 8) + "-";
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00.123456789Z"));
    private final DynamoSequencedDeadLetterQueue queue = queue("run-views");

    private DynamoSequencedDeadLetterQueue queue(String group) {
        return DynamoSequencedDeadLetterQueue.builder()
                .dynamoDb(TestTables.dynamoDb())
                .table(TABLES.name(DagyTable.DEAD_LETTERS))
                .processingGroup(prefix + group)
                .eventSerializer(TestSerializer.jackson())
                .serializer(TestSerializer.jackson())
                .maxSequences((int) MAX_SEQUENCES)
                .maxSequenceSize((int) MAX_SEQUENCE_SIZE)
                .clock(clock)
                .build();
    }

    // ------------------------------------------------------------------ letters

    static String sequence() {
        return "r-" + UUID.randomUUID();
    }

    /** The first letter of a sequence: a tracked domain event that failed, as the processor hands it over. */
    private DeadLetter<EventMessage<?>> initialLetter() {
        String aggregate = "r-" + UUID.randomUUID();
        EventMessage<?> event = new GenericTrackedDomainEventMessage<>(new DynamoTrackingToken(new long[]{3, 9}),
                new GenericDomainEventMessage<>("Run", aggregate, 4, new SomethingHappened("started " + aggregate),
                        MetaData.with("org_id", "default")));
        return new GenericDeadLetter<>(aggregate, event, new ThrowableCause(new IllegalStateException("failed " + aggregate)),
                clock.instant(), clock.instant(), MetaData.emptyInstance());
    }

    /** A letter parked behind the first: no cause of its own. */
    private DeadLetter<EventMessage<?>> followUpLetter() {
        EventMessage<?> event = GenericEventMessage.asEventMessage(new SomethingHappened("then " + UUID.randomUUID()));
        return new GenericDeadLetter<>("any", event, null, clock.instant(), clock.instant(), MetaData.emptyInstance());
    }

    private static Throwable failure() {
        return new RuntimeException("because " + UUID.randomUUID());
    }

    private static List<DeadLetter<? extends EventMessage<?>>> lettersOf(Iterable<DeadLetter<? extends EventMessage<?>>> sequence) {
        List<DeadLetter<? extends EventMessage<?>>> letters = new ArrayList<>();
        sequence.forEach(letters::add);
        return letters;
    }

    private DynamoDeadLetter stored(Object sequence, int index) {
        return (DynamoDeadLetter) lettersOf(queue.deadLetterSequence(sequence)).get(index);
    }

    /** The letter as stored equals the letter as enqueued: the event field by field, the letter's own fields. */
    static void assertSameLetter(DeadLetter<? extends EventMessage<?>> actual, DeadLetter<? extends EventMessage<?>> expected) {
        assertSameEvent(actual.message(), expected.message());
        assertThat(actual.cause()).isEqualTo(expected.cause());
        assertThat(actual.enqueuedAt()).isEqualTo(expected.enqueuedAt());
        assertThat(actual.lastTouched()).isEqualTo(expected.lastTouched());
        assertThat(actual.diagnostics()).isEqualTo(expected.diagnostics());
    }

    static void assertSameEvent(EventMessage<?> actual, EventMessage<?> expected) {
        assertThat(actual.getIdentifier()).isEqualTo(expected.getIdentifier());
        assertThat(actual.getPayload()).isEqualTo(expected.getPayload());
        assertThat(actual.getMetaData()).isEqualTo(expected.getMetaData());
        assertThat(actual.getTimestamp()).isEqualTo(expected.getTimestamp());
        assertThat(actual instanceof TrackedEventMessage).isEqualTo(expected instanceof TrackedEventMessage);
        if (expected instanceof TrackedEventMessage<?> tracked) {
            assertThat(((TrackedEventMessage<?>) actual).trackingToken()).isEqualTo(tracked.trackingToken());
        }
        assertThat(actual instanceof DomainEventMessage).isEqualTo(expected instanceof DomainEventMessage);
        if (expected instanceof DomainEventMessage<?> domain) {
            DomainEventMessage<?> read = (DomainEventMessage<?>) actual;
            assertThat(read.getAggregateIdentifier()).isEqualTo(domain.getAggregateIdentifier());
            assertThat(read.getSequenceNumber()).isEqualTo(domain.getSequenceNumber());
            assertThat(read.getType()).isEqualTo(domain.getType());
        }
    }

    private Function<DeadLetter<? extends EventMessage<?>>, EnqueueDecision<EventMessage<?>>> recordingInto(
            List<DeadLetter<? extends EventMessage<?>>> handled) {
        return letter -> {
            handled.add(letter);
            return Decisions.evict();
        };
    }

    // ------------------------------------------------------------------ enqueue

    @Test
    void enqueueAddsDeadLetter() {
        String id = sequence();
        var letter = initialLetter();

        queue.enqueue(id, letter);

        assertThat(queue.contains(id)).isTrue();
        List<DeadLetter<? extends EventMessage<?>>> letters = lettersOf(queue.deadLetterSequence(id));
        assertThat(letters).hasSize(1);
        assertSameLetter(letters.get(0), letter);
    }

    @Test
    void enqueueThrowsOverflowWhenMaxSequencesIsReached() {
        for (int i = 0; i < MAX_SEQUENCES; i++) {
            queue.enqueue(sequence(), initialLetter());
        }

        String oneTooMany = sequence();
        assertThatThrownBy(() -> queue.enqueue(oneTooMany, initialLetter()))
                .isInstanceOf(DeadLetterQueueOverflowException.class);
        assertThat(queue.contains(oneTooMany)).isFalse();
    }

    @Test
    void enqueueThrowsOverflowWhenMaxSequenceSizeIsReached() {
        String id = sequence();
        for (int i = 0; i < MAX_SEQUENCE_SIZE; i++) {
            queue.enqueue(id, initialLetter());
        }

        assertThatThrownBy(() -> queue.enqueue(id, initialLetter())).isInstanceOf(DeadLetterQueueOverflowException.class);
        assertThat(queue.sequenceSize(id)).isEqualTo(MAX_SEQUENCE_SIZE);
    }

    @Test
    void enqueueIfPresentThrowsOverflowForAFullSequence() {
        String id = sequence();
        for (int i = 0; i < MAX_SEQUENCE_SIZE; i++) {
            queue.enqueue(id, initialLetter());
        }

        assertThatThrownBy(() -> queue.enqueueIfPresent(id, this::followUpLetter))
                .isInstanceOf(DeadLetterQueueOverflowException.class);
    }

    @Test
    void enqueueIfPresentDoesNotEnqueueIntoAnEmptyQueue() {
        String id = sequence();
        AtomicBoolean built = new AtomicBoolean();

        boolean enqueued = queue.enqueueIfPresent(id, () -> {
            built.set(true);
            return followUpLetter();
        });

        assertThat(enqueued).isFalse();
        assertThat(built).isFalse();
        assertThat(queue.contains(id)).isFalse();
    }

    @Test
    void enqueueIfPresentDoesNotEnqueueForAnotherSequence() {
        String first = sequence();
        queue.enqueue(first, initialLetter());
        String second = sequence();

        boolean enqueued = queue.enqueueIfPresent(second, this::followUpLetter);

        assertThat(enqueued).isFalse();
        assertThat(queue.contains(first)).isTrue();
        assertThat(queue.contains(second)).isFalse();
    }

    @Test
    void enqueueIfPresentEnqueuesBehindAnExistingSequence() {
        String id = sequence();
        var first = initialLetter();
        var second = followUpLetter();
        queue.enqueue(id, first);

        boolean enqueued = queue.enqueueIfPresent(id, () -> second);

        assertThat(enqueued).isTrue();
        List<DeadLetter<? extends EventMessage<?>>> letters = lettersOf(queue.deadLetterSequence(id));
        assertThat(letters).hasSize(2);
        assertSameLetter(letters.get(0), first);
        assertSameLetter(letters.get(1), second);
    }

    // ------------------------------------------------------------------ evict

    @Test
    void evictOfALetterFromAnotherQueueChangesNothing() {
        DynamoSequencedDeadLetterQueue other = queue("deployment-views");
        String otherId = sequence();
        other.enqueue(otherId, initialLetter());
        DeadLetter<? extends EventMessage<?>> foreign = lettersOf(other.deadLetterSequence(otherId)).get(0);
        String id = sequence();
        var letter = initialLetter();
        queue.enqueue(id, letter);

        queue.evict(foreign);

        assertThat(queue.contains(id)).isTrue();
        assertThat(queue.contains(otherId)).isFalse();
        assertThat(other.contains(otherId)).isTrue();
        assertSameLetter(stored(id, 0), letter);
    }

    @Test
    void evictOfALetterNoLongerStoredChangesNothingEvenIfAnotherNowSitsAtItsIndex() {
        String id = sequence();
        queue.enqueue(id, initialLetter());
        DynamoDeadLetter gone = stored(id, 0);
        queue.evict(gone);
        var successor = initialLetter();
        queue.enqueue(id, successor);
        assertThat(stored(id, 0).index()).isEqualTo(gone.index());

        queue.evict(gone);

        assertThat(queue.sequenceSize(id)).isEqualTo(1);
        assertSameLetter(stored(id, 0), successor);
    }

    @Test
    void evictRemovesTheLetterAndWithTheLastOneTheSequence() {
        String id = sequence();
        queue.enqueue(id, initialLetter());
        var second = followUpLetter();
        queue.enqueueIfPresent(id, () -> second);

        queue.evict(stored(id, 0));

        assertThat(queue.sequenceSize(id)).isEqualTo(1);
        assertSameLetter(stored(id, 0), second);

        queue.evict(stored(id, 0));

        assertThat(queue.contains(id)).isFalse();
        assertThat(queue.deadLetterSequence(id)).isEmpty();
        assertThat(queue.amountOfSequences()).isZero();
    }

    @Test
    void evictAndRequeueRefuseALetterThisQueueDidNotRead() {
        assertThatThrownBy(() -> queue.evict(initialLetter())).isInstanceOf(WrongDeadLetterTypeException.class);
        assertThatThrownBy(() -> queue.requeue(initialLetter(), l -> l)).isInstanceOf(WrongDeadLetterTypeException.class);
    }

    // ------------------------------------------------------------------ requeue

    @Test
    void requeueOfALetterInNoSequenceThrowsNoSuchDeadLetter() {
        DynamoSequencedDeadLetterQueue other = queue("deployment-views");
        String otherId = sequence();
        other.enqueue(otherId, initialLetter());
        DeadLetter<? extends EventMessage<?>> foreign = lettersOf(other.deadLetterSequence(otherId)).get(0);

        assertThatThrownBy(() -> queue.requeue(foreign, l -> l)).isInstanceOf(NoSuchDeadLetterException.class);
    }

    @Test
    void requeueOfALetterNoLongerStoredThrowsNoSuchDeadLetter() {
        String id = sequence();
        queue.enqueue(id, initialLetter());
        DynamoDeadLetter gone = stored(id, 0);
        queue.evict(gone);
        queue.enqueue(id, initialLetter());

        assertThatThrownBy(() -> queue.requeue(gone, l -> l)).isInstanceOf(NoSuchDeadLetterException.class);
    }

    @Test
    void requeueKeepsTheLetterWithItsNewCauseDiagnosticsAndLastTouched() {
        String id = sequence();
        var letter = initialLetter();
        queue.enqueue(id, letter);
        Throwable again = failure();
        clock.advance(Duration.ofSeconds(5));

        queue.requeue(stored(id, 0), l -> l.withCause(again).withDiagnostics(MetaData.with("retries", 1)));

        DynamoDeadLetter requeued = stored(id, 0);
        assertSameEvent(requeued.message(), letter.message());
        assertThat(requeued.cause()).contains(new ThrowableCause(again));
        assertThat(requeued.enqueuedAt()).isEqualTo(letter.enqueuedAt());
        assertThat(requeued.lastTouched()).isEqualTo(clock.instant());
        assertThat(requeued.diagnostics()).isEqualTo(MetaData.with("retries", 1));
        assertThat(queue.sequenceSize(id)).isEqualTo(1);
    }

    // ------------------------------------------------------------------ reading

    @Test
    void containsTellsWhetherASequenceHoldsLetters() {
        String id = sequence();
        assertThat(queue.contains(id)).isFalse();

        queue.enqueue(id, initialLetter());

        assertThat(queue.contains(id)).isTrue();
        assertThat(queue.contains(sequence())).isFalse();
    }

    @Test
    void deadLetterSequenceHoldsOnlyThatSequencesLettersInInsertOrder() {
        String id = sequence();
        List<DeadLetter<EventMessage<?>>> expected = new ArrayList<>();
        expected.add(initialLetter());
        queue.enqueue(id, expected.get(0));
        queue.enqueue(sequence(), initialLetter());
        for (int i = 0; i < 4; i++) {
            clock.advance(Duration.ofMillis(10));
            var next = followUpLetter();
            expected.add(next);
            queue.enqueueIfPresent(id, () -> next);
        }

        List<DeadLetter<? extends EventMessage<?>>> letters = lettersOf(queue.deadLetterSequence(id));

        assertThat(letters).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            assertSameLetter(letters.get(i), expected.get(i));
        }
    }

    @Test
    void deadLettersHoldsEverySequence() {
        String first = sequence();
        var firstLetter = initialLetter();
        queue.enqueue(first, firstLetter);
        var firstFollowUp = followUpLetter();
        queue.enqueueIfPresent(first, () -> firstFollowUp);
        String second = sequence();
        var secondLetter = initialLetter();
        queue.enqueue(second, secondLetter);

        List<List<DeadLetter<? extends EventMessage<?>>>> sequences = new ArrayList<>();
        queue.deadLetters().forEach(sequence -> sequences.add(lettersOf(sequence)));

        assertThat(sequences).hasSize(2);
        List<DeadLetter<? extends EventMessage<?>>> firstRead = sequences.stream()
                .filter(letters -> ((DynamoDeadLetter) letters.get(0)).sequenceIdentifier().equals(first)).findFirst()
                .orElseThrow();
        List<DeadLetter<? extends EventMessage<?>>> secondRead = sequences.stream()
                .filter(letters -> ((DynamoDeadLetter) letters.get(0)).sequenceIdentifier().equals(second)).findFirst()
                .orElseThrow();
        assertThat(firstRead).hasSize(2);
        assertSameLetter(firstRead.get(0), firstLetter);
        assertSameLetter(firstRead.get(1), firstFollowUp);
        assertThat(secondRead).hasSize(1);
        assertSameLetter(secondRead.get(0), secondLetter);
    }

    @Test
    void isFullAfterTheMostSequences() {
        String id = sequence();
        assertThat(queue.isFull(id)).isFalse();
        for (int i = 0; i < MAX_SEQUENCES - 1; i++) {
            queue.enqueue(sequence(), initialLetter());
        }
        assertThat(queue.isFull(id)).isFalse();

        queue.enqueue(sequence(), initialLetter());

        assertThat(queue.isFull(id)).isTrue();
    }

    @Test
    void isFullAfterTheLargestSequence() {
        String id = sequence();
        for (int i = 0; i < MAX_SEQUENCE_SIZE - 1; i++) {
            queue.enqueue(id, initialLetter());
        }
        assertThat(queue.isFull(id)).isFalse();

        queue.enqueue(id, initialLetter());

        assertThat(queue.isFull(id)).isTrue();
        assertThat(queue.isFull(sequence())).isFalse();
    }

    @Test
    void sizeCountsEveryLetter() {
        assertThat(queue.size()).isZero();
        String id = sequence();
        queue.enqueue(id, initialLetter());
        queue.enqueueIfPresent(id, this::followUpLetter);
        queue.enqueue(sequence(), initialLetter());

        assertThat(queue.size()).isEqualTo(3);
    }

    @Test
    void sequenceSizeCountsTheLettersOfOneSequence() {
        String id = sequence();
        assertThat(queue.sequenceSize(id)).isZero();
        queue.enqueue(id, initialLetter());
        queue.enqueueIfPresent(id, this::followUpLetter);
        queue.enqueue(sequence(), initialLetter());

        assertThat(queue.sequenceSize(id)).isEqualTo(2);
        assertThat(queue.sequenceSize(sequence())).isZero();
    }

    @Test
    void amountOfSequencesCountsDistinctSequences() {
        assertThat(queue.amountOfSequences()).isZero();
        String id = sequence();
        queue.enqueue(id, initialLetter());
        queue.enqueueIfPresent(id, this::followUpLetter);
        queue.enqueue(sequence(), initialLetter());

        assertThat(queue.amountOfSequences()).isEqualTo(2);
    }

    // ------------------------------------------------------------------ process

    @Test
    void processReturnsFalseWhenNothingIsParked() {
        AtomicBoolean invoked = new AtomicBoolean();

        boolean processed = queue.process(letter -> {
            invoked.set(true);
            return Decisions.evict();
        });

        assertThat(processed).isFalse();
        assertThat(invoked).isFalse();
    }

    @Test
    void processReturnsTrueAndEvictsTheLetterItHandled() {
        String id = sequence();
        var letter = initialLetter();
        queue.enqueue(id, letter);
        List<DeadLetter<? extends EventMessage<?>>> handled = new ArrayList<>();

        boolean processed = queue.process(recordingInto(handled));

        assertThat(processed).isTrue();
        assertThat(handled).hasSize(1);
        assertSameLetter(handled.get(0), letter);
        assertThat(queue.contains(id)).isFalse();
    }

    @Test
    void processReturnsFalseAndRequeuesALetterTheTaskKeeps() {
        String id = sequence();
        var letter = initialLetter();
        queue.enqueue(id, letter);
        Throwable again = failure();
        MetaData diagnostics = MetaData.with("custom-key", "custom-value");
        clock.advance(Duration.ofSeconds(3));

        boolean processed = queue.process(l -> Decisions.requeue(again, ignored -> diagnostics));

        assertThat(processed).isFalse();
        DynamoDeadLetter kept = stored(id, 0);
        assertSameEvent(kept.message(), letter.message());
        assertThat(kept.cause()).contains(new ThrowableCause(again));
        assertThat(kept.diagnostics()).isEqualTo(diagnostics);
        assertThat(kept.enqueuedAt()).isEqualTo(letter.enqueuedAt());
        assertThat(kept.lastTouched()).isEqualTo(clock.instant());
        assertThat(queue.sequenceSize(id)).isEqualTo(1);
    }

    @Test
    void processTakesTheSequenceWhoseFirstLetterWasTouchedLongestAgo() {
        String older = sequence();
        var olderLetter = initialLetter();
        queue.enqueue(older, olderLetter);
        clock.advance(Duration.ofSeconds(5));
        String newer = sequence();
        var newerLetter = initialLetter();
        queue.enqueue(newer, newerLetter);
        List<DeadLetter<? extends EventMessage<?>>> handled = new ArrayList<>();

        assertThat(queue.process(recordingInto(handled))).isTrue();
        assertThat(queue.process(recordingInto(handled))).isTrue();

        assertThat(handled).hasSize(2);
        assertSameLetter(handled.get(0), olderLetter);
        assertSameLetter(handled.get(1), newerLetter);
    }

    @Test
    void processHandlesEveryLetterOfOneSequenceInOrder() {
        String id = sequence();
        List<DeadLetter<EventMessage<?>>> expected = new ArrayList<>(List.of(initialLetter()));
        queue.enqueue(id, expected.get(0));
        for (int i = 0; i < 2; i++) {
            clock.advance(Duration.ofSeconds(1));
            var next = followUpLetter();
            expected.add(next);
            queue.enqueueIfPresent(id, () -> next);
        }
        String other = sequence();
        queue.enqueue(other, initialLetter());
        List<DeadLetter<? extends EventMessage<?>>> handled = new ArrayList<>();

        assertThat(queue.process(recordingInto(handled))).isTrue();

        assertThat(handled).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertSameLetter(handled.get(i), expected.get(i));
        }
        assertThat(queue.contains(id)).isFalse();
        assertThat(queue.contains(other)).isTrue();
    }

    @Test
    void processHandlesALongSequence() {
        String id = sequence();
        List<DeadLetter<EventMessage<?>>> expected = new ArrayList<>(List.of(initialLetter()));
        queue.enqueue(id, expected.get(0));
        for (int i = 0; i < MAX_SEQUENCE_SIZE - 1; i++) {
            var next = followUpLetter();
            expected.add(next);
            queue.enqueueIfPresent(id, () -> next);
        }
        List<DeadLetter<? extends EventMessage<?>>> handled = new ArrayList<>();

        assertThat(queue.process(recordingInto(handled))).isTrue();

        assertThat(handled).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            assertSameLetter(handled.get(i), expected.get(i));
        }
        assertThat(queue.size()).isZero();
    }

    @Test
    void processStopsAtTheFirstLetterTheTaskKeeps() {
        String id = sequence();
        queue.enqueue(id, initialLetter());
        var second = followUpLetter();
        queue.enqueueIfPresent(id, () -> second);
        queue.enqueueIfPresent(id, this::followUpLetter);
        AtomicInteger calls = new AtomicInteger();

        boolean processed = queue.process(letter -> calls.incrementAndGet() == 1 ? Decisions.evict()
                : Decisions.requeue(new IllegalStateException("still broken")));

        assertThat(processed).isFalse();
        assertThat(calls).hasValue(2);
        assertThat(queue.sequenceSize(id)).isEqualTo(2);
        assertSameEvent(stored(id, 0).message(), second.message());
        assertThat(stored(id, 0).cause().orElseThrow().message()).isEqualTo("still broken");
    }

    @Test
    void processReturnsFalseWhileAnotherProcessHoldsTheOnlySequence() throws Exception {
        String id = sequence();
        var letter = initialLetter();
        queue.enqueue(id, letter);
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        List<DeadLetter<? extends EventMessage<?>>> handledByBlocking = new ArrayList<>();
        CompletableFuture<Boolean> blocking = CompletableFuture.supplyAsync(() -> queue.process(l -> {
            holding.countDown();
            await(finish);
            handledByBlocking.add(l);
            return Decisions.evict();
        }));
        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
        AtomicBoolean invoked = new AtomicBoolean();

        boolean processed = queue.process(l -> {
            invoked.set(true);
            return Decisions.evict();
        });

        assertThat(processed).isFalse();
        assertThat(invoked).isFalse();
        finish.countDown();
        assertThat(blocking.get(10, TimeUnit.SECONDS)).isTrue();
        assertSameLetter(handledByBlocking.get(0), letter);
    }

    @Test
    void processWithAFilterReturnsFalseWhenNoSequenceMatches() {
        queue.enqueue(sequence(), initialLetter());
        queue.enqueue(sequence(), initialLetter());
        AtomicBoolean invoked = new AtomicBoolean();

        boolean processed = queue.process(letter -> false, letter -> {
            invoked.set(true);
            return Decisions.evict();
        });

        assertThat(processed).isFalse();
        assertThat(invoked).isFalse();
        assertThat(queue.size()).isEqualTo(2);
    }

    @Test
    void processWithAFilterHandlesTheMatchingSequenceOnly() {
        String wanted = sequence();
        var wantedLetter = initialLetter();
        queue.enqueue(sequence(), initialLetter());
        clock.advance(Duration.ofSeconds(1));
        queue.enqueue(wanted, wantedLetter);
        var wantedFollowUp = followUpLetter();
        queue.enqueueIfPresent(wanted, () -> wantedFollowUp);
        List<DeadLetter<? extends EventMessage<?>>> handled = new ArrayList<>();

        boolean processed = queue.process(
                letter -> letter.message().getIdentifier().equals(wantedLetter.message().getIdentifier()),
                recordingInto(handled));

        assertThat(processed).isTrue();
        assertThat(handled).hasSize(2);
        assertSameLetter(handled.get(0), wantedLetter);
        assertSameLetter(handled.get(1), wantedFollowUp);
        assertThat(queue.contains(wanted)).isFalse();
        assertThat(queue.amountOfSequences()).isEqualTo(1);
    }

    @Test
    void processWithAFilterRequeuesALetterTheTaskKeeps() {
        String wanted = sequence();
        var wantedLetter = initialLetter();
        queue.enqueue(wanted, wantedLetter);
        queue.enqueue(sequence(), initialLetter());
        Throwable again = failure();
        clock.advance(Duration.ofSeconds(2));

        boolean processed = queue.process(
                letter -> letter.message().getIdentifier().equals(wantedLetter.message().getIdentifier()),
                letter -> Decisions.requeue(again));

        assertThat(processed).isFalse();
        assertThat(stored(wanted, 0).cause()).contains(new ThrowableCause(again));
        assertThat(stored(wanted, 0).lastTouched()).isEqualTo(clock.instant());
        assertThat(queue.size()).isEqualTo(2);
    }

    @Test
    void processWithAFilterReturnsFalseWhileTheMatchingSequenceIsHeld() throws Exception {
        String wanted = sequence();
        var wantedLetter = initialLetter();
        queue.enqueue(wanted, wantedLetter);
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        CompletableFuture<Boolean> blocking = CompletableFuture.supplyAsync(() -> queue.process(
                letter -> letter.message().getIdentifier().equals(wantedLetter.message().getIdentifier()),
                letter -> {
                    holding.countDown();
                    await(finish);
                    return Decisions.evict();
                }));
        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
        queue.enqueue(sequence(), initialLetter());
        AtomicBoolean invoked = new AtomicBoolean();

        boolean processed = queue.process(
                letter -> letter.message().getIdentifier().equals(wantedLetter.message().getIdentifier()),
                letter -> {
                    invoked.set(true);
                    return Decisions.evict();
                });

        assertThat(processed).isFalse();
        assertThat(invoked).isFalse();
        finish.countDown();
        assertThat(blocking.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(queue.contains(wanted)).isFalse();
    }

    // ------------------------------------------------------------------ clear

    @Test
    void clearRemovesEverySequenceOfThisProcessorOnly() {
        DynamoSequencedDeadLetterQueue other = queue("deployment-views");
        String kept = sequence();
        other.enqueue(kept, initialLetter());
        List<String> ids = List.of(sequence(), sequence(), sequence());
        ids.forEach(id -> queue.enqueue(id, initialLetter()));
        queue.enqueueIfPresent(ids.get(0), this::followUpLetter);
        ids.forEach(id -> assertThat(queue.contains(id)).isTrue());

        queue.clear();

        ids.forEach(id -> {
            assertThat(queue.contains(id)).isFalse();
            assertThat(queue.deadLetterSequence(id)).isEmpty();
        });
        assertThat(queue.size()).isZero();
        assertThat(other.contains(kept)).isTrue();
    }

    // ------------------------------------------------------------------ storage

    @Test
    void anEventIsStoredAsTheProcessorGotIt() {
        String big = "x".repeat(20_000);
        EventMessage<?> tracked = new GenericTrackedDomainEventMessage<>(
                ReplayToken.createReplayToken(new DynamoTrackingToken(new long[]{12, 40}), new DynamoTrackingToken(new long[]{2, 3})),
                new GenericDomainEventMessage<>("TaskRun", "r-1/extract", 7, new SomethingHappened(big),
                        MetaData.with("org_id", "acme").and("actor_id", "system:dagy")));
        EventMessage<?> plain = GenericEventMessage.asEventMessage(new SomethingHappened("plain"))
                .andMetaData(Map.of("trace", "t-1"));
        EventMessage<?> domain = new GenericDomainEventMessage<>("Run", "r-2", 0, new SomethingHappened("domain"));
        String id = sequence();
        List<DeadLetter<EventMessage<?>>> letters = List.of(
                new GenericDeadLetter<>(id, tracked, new ThrowableCause(new IllegalStateException("x".repeat(5_000))),
                        clock.instant(), clock.instant(), MetaData.with("attempts", 3)),
                new GenericDeadLetter<>(id, plain, null, clock.instant(), clock.instant(), MetaData.emptyInstance()),
                new GenericDeadLetter<>(id, domain, null, clock.instant(), clock.instant(), MetaData.emptyInstance()));
        letters.forEach(letter -> queue.enqueue(id, letter));

        List<DeadLetter<? extends EventMessage<?>>> read = lettersOf(queue.deadLetterSequence(id));

        assertThat(read).hasSize(3);
        assertSameEvent(read.get(0).message(), tracked);
        assertThat(read.get(0).cause().orElseThrow().type()).isEqualTo(IllegalStateException.class.getName());
        assertThat(read.get(0).cause().orElseThrow().message()).hasSize(ThrowableCause.TRUNCATED_MESSAGE_SIZE);
        assertThat(read.get(0).diagnostics()).isEqualTo(MetaData.with("attempts", 3));
        assertThat(((DynamoDeadLetter) read.get(0)).payloadType()).isEqualTo(SomethingHappened.class.getName());
        assertSameLetter(read.get(1), letters.get(1));
        assertSameLetter(read.get(2), letters.get(2));
    }

    @Test
    void theSameEventParkedTwiceIsStoredOnce() {
        String id = sequence();
        var letter = initialLetter();
        queue.enqueue(id, letter);
        var follow = followUpLetter();
        queue.enqueueIfPresent(id, () -> follow);

        queue.enqueue(id, letter);
        queue.enqueueIfPresent(id, () -> follow);

        assertThat(queue.sequenceSize(id)).isEqualTo(2);
        assertThat(StreamSupport.stream(queue.deadLetterSequence(id).spliterator(), false)
                .map(l -> l.message().getIdentifier()))
                .containsExactly(letter.message().getIdentifier(), follow.message().getIdentifier());
    }

    @Test
    void processingGroupsWithTheSeparatorInTheirNamesDoNotShareSequences() {
        DynamoSequencedDeadLetterQueue left = queue("a#b");
        DynamoSequencedDeadLetterQueue right = queue("a");
        left.enqueue("c", initialLetter());

        assertThat(right.contains("b#c")).isFalse();
        assertThat(right.deadLetterSequence("b#c")).isEmpty();
        assertThat(left.contains("c")).isTrue();
    }

    @Test
    void summariesShowEachSequenceWithItsFirstLetter() {
        String id = sequence();
        var letter = initialLetter();
        queue.enqueue(id, letter);
        queue.enqueueIfPresent(id, this::followUpLetter);

        var parked = queue.sequence(id).orElseThrow();

        assertThat(parked.sequence()).isEqualTo(id);
        assertThat(parked.size()).isEqualTo(2);
        assertThat(parked.claimed()).isFalse();
        assertSameLetter(parked.head(), letter);
        assertThat(queue.sequences()).extracting(DynamoSequencedDeadLetterQueue.ParkedSequence::sequence).containsExactly(id);
        assertThat(queue.sequence(sequence())).isEmpty();
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test did not release the task");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
