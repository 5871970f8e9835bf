package io.dagy.eventstore.contract;

import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventsourcing.eventstore.AbstractEventStorageEngine;
import org.axonframework.eventsourcing.eventstore.EventStoreException;
import org.axonframework.eventsourcing.snapshotting.SnapshotFilter;
import org.axonframework.messaging.MetaData;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.axonframework.modelling.command.ConcurrencyException;
import org.axonframework.serialization.upcasting.event.EventUpcaster;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What Axon's {@code EventStorageEngine} contract promises, written for Dagy from the cases of Axon's
 * {@code EventStorageEngineTest}, {@code AbstractEventStorageEngineTest} and {@code BatchingEventStorageEngineTest}
 * (4.13.0): an engine under test extends this class. Where Dagy's engine deviates by design (docs/event-store.md,
 * "Where we deviate from Axon's contracts"), the case states the deviation, so a change in either direction shows.
 */
public abstract class EventStorageEngineContract {

    /** An aggregate's events of one unit of work must fit one append (50 domain events in Dagy's engine). */
    protected static final int EVENTS_PER_APPEND = 50;

    /** A fresh engine on fresh storage, its builder customized before it is built. */
    protected abstract AbstractEventStorageEngine createEngine(UnaryOperator<AbstractEventStorageEngine.Builder> customize);

    /** The engine's events-per-read page, so a read spanning pages can be checked; 0 if it has none. */
    protected abstract int readPageSize();

    private AbstractEventStorageEngine engine;

    protected AbstractEventStorageEngine engine() {
        if (engine == null) {
            engine = createEngine(b -> b);
        }
        return engine;
    }

    protected static DomainEventMessage<Noted> event(String aggregate, long sequence) {
        return new GenericDomainEventMessage<>("Order", aggregate, sequence, new Noted(aggregate, sequence));
    }

    protected static DomainEventMessage<Noted> event(String aggregate, long sequence, Instant at) {
        return new GenericDomainEventMessage<>("Order", aggregate, sequence, new Noted(aggregate, sequence),
                MetaData.emptyInstance(), UUID.randomUUID().toString(), at);
    }

    protected static DomainEventMessage<Noted> event(String id, String aggregate, long sequence) {
        return new GenericDomainEventMessage<>("Order", aggregate, sequence, new Noted(aggregate, sequence),
                MetaData.emptyInstance(), id, Instant.now());
    }

    private static List<DomainEventMessage<?>> events(String aggregate, long from, int count) {
        return IntStream.range(0, count).<DomainEventMessage<?>>mapToObj(i -> event(aggregate, from + i)).toList();
    }

    private List<TrackedEventMessage<?>> readAll(AbstractEventStorageEngine reader, TrackingToken from) {
        try (Stream<? extends TrackedEventMessage<?>> stream = reader.readEvents(from, false)) {
            return new ArrayList<>(stream.toList());
        }
    }

    private static List<String> ids(List<? extends EventMessage<?>> events) {
        return events.stream().map(EventMessage::getIdentifier).toList();
    }

    private List<Long> sequences(String aggregate, long from) {
        return engine().readEvents(aggregate, from).asStream().map(DomainEventMessage::getSequenceNumber).toList();
    }

    // ------------------------------------------------------------------------------------------ aggregates

    @Test
    void anAggregateReadsBackExactlyItsOwnEventsInSequence() {
        engine().appendEvents(events("order-1", 0, 4));
        engine().appendEvents(event("order-2", 0));

        assertThat(sequences("order-1", 0)).containsExactly(0L, 1L, 2L, 3L);
        assertThat(sequences("order-2", 0)).containsExactly(0L);
        assertThat(engine().readEvents("order-1").asStream().map(e -> ((Noted) e.getPayload()).aggregate()))
                .containsOnly("order-1");
    }

    @Test
    void readingFromASequenceNumberStartsThere() {
        engine().appendEvents(events("order-1", 0, 5));

        assertThat(sequences("order-1", 2)).containsExactly(2L, 3L, 4L);
    }

    @Test
    void anAggregateWithoutEventsReadsAsAnEmptyStream() {
        assertThat(engine().readEvents(UUID.randomUUID().toString()).asStream()).isEmpty();
        assertThat(engine().lastSequenceNumberFor(UUID.randomUUID().toString())).isEmpty();
    }

    @Test
    void theLastSequenceNumberIsThatOfTheNewestEvent() {
        engine().appendEvents(events("order-1", 0, 3));

        assertThat(engine().lastSequenceNumberFor("order-1")).hasValue(2L);
    }

    @Test
    void anAggregateLongerThanAReadPageReadsWhole() {
        int count = Math.max(readPageSize(), EVENTS_PER_APPEND) + 10;
        for (int from = 0; from < count; from += EVENTS_PER_APPEND) {
            engine().appendEvents(events("order-1", from, Math.min(EVENTS_PER_APPEND, count - from)));
        }
        engine().appendEvents(GenericEventMessage.asEventMessage("after"));

        assertThat(sequences("order-1", 0)).hasSize(count).last().isEqualTo((long) count - 1);
        List<TrackedEventMessage<?>> tracked = readAll(engine(), null);
        assertThat(tracked).hasSize(count + 1);
        assertThat(tracked).filteredOn(e -> e instanceof DomainEventMessage<?>)
                .extracting(e -> ((DomainEventMessage<?>) e).getSequenceNumber())
                .containsExactlyElementsOf(LongStream.range(0, count).boxed().toList());
        // Deviation: Axon's engines deliver "after" last, in append order. Dagy's engine merges its shards by
        // timestamp one read page at a time, so an event of another shard may come before older events of this one
        // that the page did not reach (docs/event-store.md, "Where we deviate from Axon's contracts").
        assertThat(tracked).extracting(e -> (Object) e.getPayload()).contains("after");
    }

    // ------------------------------------------------------------------------------------------ payload and metadata

    @Test
    void aPlainEventIsTrackedWithItsPayloadAndMetadataButIsNoDomainEvent() {
        engine().appendEvents(new GenericEventMessage<>("hello", MetaData.with("key", "value")));

        List<TrackedEventMessage<?>> read = readAll(engine(), null);

        assertThat(read).singleElement().satisfies(e -> {
            assertThat(e).isNotInstanceOf(DomainEventMessage.class);
            assertThat(e.getPayload()).isEqualTo("hello");
            assertThat(e.getMetaData()).isEqualTo(MetaData.with("key", "value"));
        });
    }

    @Test
    void aStoredEventKeepsItsIdentifierTimestampPayloadAndMetadata() {
        Instant at = Instant.parse("2026-11-30T06:00:00.123Z");
        DomainEventMessage<Noted> appended = event("order-1", 0, at).withMetaData(Map.of("org", "acme"));
        engine().appendEvents(appended);

        DomainEventMessage<?> loaded = engine().readEvents("order-1").next();

        assertThat(loaded.getIdentifier()).isEqualTo(appended.getIdentifier());
        assertThat(loaded.getTimestamp()).isEqualTo(at);
        assertThat(loaded.getPayload()).isEqualTo(new Noted("order-1", 0));
        assertThat(loaded.getMetaData()).isEqualTo(MetaData.with("org", "acme"));
        assertThat(loaded.getType()).isEqualTo("Order");
    }

    @Test
    void theMetadataOfAReadEventCanBeReplacedOrExtended() {
        engine().appendEvents(event("order-1", 0).withMetaData(Map.of("key", "value")));
        DomainEventMessage<?> read = engine().readEvents("order-1").next();

        DomainEventMessage<?> replaced = read.withMetaData(Map.of("other", "value"));
        DomainEventMessage<?> extended = read.andMetaData(Map.of("other", "value"));

        assertThat(replaced.getMetaData()).containsOnlyKeys("other");
        assertThat(extended.getMetaData()).containsOnlyKeys("key", "other");
        assertThat(replaced.getPayload()).isEqualTo(read.getPayload());
    }

    @Test
    void theUpcasterChainShapesEventsOnBothReadPaths() {
        EventUpcaster doubling = representations -> representations.flatMap(r -> Stream.of(r, r));
        AbstractEventStorageEngine upcasting = createEngine(b -> b.upcasterChain(doubling));

        upcasting.appendEvents(events("order-1", 0, 3));

        List<Long> loaded = upcasting.readEvents("order-1").asStream().map(DomainEventMessage::getSequenceNumber).toList();
        assertThat(loaded).containsExactly(0L, 0L, 1L, 1L, 2L, 2L);
        assertThat(readAll(upcasting, null)).hasSize(6);
    }

    // ------------------------------------------------------------------------------------------ duplicates

    @Test
    void aSecondFirstEventOfAnAggregateIsRefusedAsAStreamCreationConflictAndWritesNothing() {
        engine().appendEvents(event("order-1", 0));

        assertThatThrownBy(() -> engine().appendEvents(event("order-1", 0), event("order-9", 0)))
                .isInstanceOf(AggregateStreamCreationException.class);
        assertThat(sequences("order-9", 0)).isEmpty();
    }

    @Test
    void aTakenSequenceNumberIsRefusedAsAConcurrencyConflictAndTheAppendWritesNothing() {
        engine().appendEvents(events("order-1", 0, 2));

        assertThatThrownBy(() -> engine().appendEvents(event("order-2", 0), event("order-1", 1)))
                .isInstanceOf(ConcurrencyException.class)
                .isNotInstanceOf(AggregateStreamCreationException.class);
        assertThat(sequences("order-2", 0)).isEmpty();
        assertThat(readAll(engine(), null)).hasSize(2);
    }

    @Test
    void aDuplicateSequenceWithinOneAppendIsRefused() {
        assertThatThrownBy(() -> engine().appendEvents(event("order-1", 0), event("order-1", 0)))
                .isInstanceOf(AggregateStreamCreationException.class);
        assertThatThrownBy(() -> engine().appendEvents(event("order-2", 1), event("order-2", 1)))
                .isInstanceOf(ConcurrencyException.class);
        assertThat(readAll(engine(), null)).isEmpty();
    }

    @Test
    void aPersistenceExceptionResolverThatSeesNoDuplicateMakesATakenSequenceAnEventStoreException() {
        AbstractEventStorageEngine resolving = createEngine(b -> b.persistenceExceptionResolver(e -> false));
        resolving.appendEvents(event("order-1", 0));

        assertThatThrownBy(() -> resolving.appendEvents(event("order-1", 0)))
                .isInstanceOf(EventStoreException.class)
                .isNotInstanceOf(ConcurrencyException.class);
    }

    /** Deviation: event identifiers are not checked for uniqueness (Axon's SQL engines have a unique key on them). */
    @Test
    void deviationEventIdentifiersAreNotCheckedForUniqueness() {
        engine().appendEvents(event("same-id", "order-1", 0));
        engine().appendEvents(event("same-id", "order-2", 0));

        assertThat(ids(readAll(engine(), null))).containsExactly("same-id", "same-id");
    }

    // ------------------------------------------------------------------------------------------ snapshots

    @Test
    void theSnapshotWithTheHighestSequenceWinsWhateverTheOrderTheyWereStored() {
        engine().storeSnapshot(event("order-1", 0));
        engine().storeSnapshot(event("order-1", 1));
        engine().storeSnapshot(event("order-1", 3));
        engine().storeSnapshot(event("order-1", 2));

        assertThat(engine().readSnapshot("order-1")).hasValueSatisfying(s -> assertThat(s.getSequenceNumber()).isEqualTo(3));
        assertThat(engine().readSnapshot("order-2")).isEmpty();
    }

    @Test
    void theSnapshotFilterDecidesWhichSnapshotsAreRead() {
        AbstractEventStorageEngine allowing = createEngine(b -> b.snapshotFilter(SnapshotFilter.allowAll()));
        allowing.storeSnapshot(event("order-1", 1));
        assertThat(allowing.readSnapshot("order-1")).isPresent();

        AbstractEventStorageEngine rejecting = createEngine(b -> b.snapshotFilter(SnapshotFilter.rejectAll()));
        rejecting.storeSnapshot(event("order-2", 1));
        assertThat(rejecting.readSnapshot("order-2")).isEmpty();

        AbstractEventStorageEngine combined = createEngine(b -> b.snapshotFilter(
                SnapshotFilter.allowAll().combine(SnapshotFilter.rejectAll())));
        combined.storeSnapshot(event("order-3", 1));
        assertThat(combined.readSnapshot("order-3")).isEmpty();
    }

    // ------------------------------------------------------------------------------------------ tracking

    @Test
    void aTokenOfAnEventResumesRightAfterIt() {
        List<DomainEventMessage<?>> appended = events("order-1", 0, 4);
        engine().appendEvents(appended);

        TrackingToken first = readAll(engine(), null).get(0).trackingToken();

        assertThat(ids(readAll(engine(), first))).containsExactlyElementsOf(ids(appended.subList(1, 4)));
    }

    @Test
    void aLaterAppendIsTrackedAfterEarlierOnes() {
        engine().appendEvents(event("order-1", 0, Instant.parse("2026-11-30T06:00:00Z")),
                event("order-1", 1, Instant.parse("2026-11-30T06:00:01Z")));
        DomainEventMessage<?> later = event("order-2", 0, Instant.parse("2026-11-30T06:00:10Z"));
        engine().appendEvents(later);

        List<TrackedEventMessage<?>> read = readAll(engine(), null);

        assertThat(read).hasSize(3);
        assertThat(read.get(2).getIdentifier()).isEqualTo(later.getIdentifier());
    }

    @Test
    void theTailTokenReadsEveryEventAndTheHeadTokenNone() {
        DomainEventMessage<?> a = event("order-1", 0, Instant.parse("2007-12-03T10:15:00Z"));
        DomainEventMessage<?> b = event("order-1", 1, Instant.parse("2007-12-03T10:15:40Z"));
        DomainEventMessage<?> c = event("order-1", 2, Instant.parse("2007-12-03T10:15:35Z"));
        engine().appendEvents(a, b, c);

        assertThat(ids(readAll(engine(), engine().createTailToken()))).containsExactly(
                a.getIdentifier(), b.getIdentifier(), c.getIdentifier());
        assertThat(readAll(engine(), engine().createHeadToken())).isEmpty();
    }

    @Test
    void theHeadTokenReadsWhatIsAppendedAfterIt() {
        engine().appendEvents(event("order-1", 0));
        TrackingToken head = engine().createHeadToken();
        DomainEventMessage<?> later = event("order-1", 1);
        engine().appendEvents(later);

        assertThat(ids(readAll(engine(), head))).containsExactly(later.getIdentifier());
    }

    @Test
    void aTokenAtAnInstantStartsAtTheFirstEventStoredAtOrAfterIt() {
        DomainEventMessage<?> a = event("order-1", 0, Instant.parse("2007-12-03T10:15:00Z"));
        DomainEventMessage<?> b = event("order-1", 1, Instant.parse("2007-12-03T10:15:40Z"));
        DomainEventMessage<?> c = event("order-1", 2, Instant.parse("2007-12-03T10:15:35Z"));
        engine().appendEvents(a, b, c);

        assertThat(ids(readAll(engine(), engine().createTokenAt(Instant.parse("2007-12-03T10:15:30Z")))))
                .containsExactly(b.getIdentifier(), c.getIdentifier());
        assertThat(ids(readAll(engine(), engine().createTokenAt(Instant.parse("2007-12-03T10:15:00Z")))))
                .containsExactly(a.getIdentifier(), b.getIdentifier(), c.getIdentifier());
    }

    @Test
    void aTokenAtAnInstantAmongUnorderedTimestampsStartsAtTheFirstStoredAtOrAfterIt() {
        List<DomainEventMessage<?>> appended = List.of(
                event("order-1", 0, Instant.parse("2007-12-03T10:15:30Z")),
                event("order-1", 1, Instant.parse("2007-12-03T10:15:40Z")),
                event("order-1", 2, Instant.parse("2007-12-03T10:15:50Z")),
                event("order-1", 3, Instant.parse("2007-12-03T10:15:45Z")),
                event("order-1", 4, Instant.parse("2007-12-03T10:15:42Z")));
        engine().appendEvents(appended);

        assertThat(ids(readAll(engine(), engine().createTokenAt(Instant.parse("2007-12-03T10:15:45Z")))))
                .containsExactlyElementsOf(ids(appended.subList(2, 5)));
    }

    @Test
    void aTokenAfterTheLastEventReadsNothingAndOneBeforeTheFirstReadsEverything() {
        engine().appendEvents(event("order-1", 0, Instant.parse("2007-12-03T10:15:30Z")),
                event("order-1", 1, Instant.parse("2007-12-03T10:15:40Z")));

        assertThat(readAll(engine(), engine().createTokenAt(Instant.parse("2008-12-03T10:15:30Z")))).isEmpty();
        assertThat(readAll(engine(), engine().createTokenAt(Instant.parse("2006-12-03T10:15:30Z")))).hasSize(2);
    }

    /** A payload of the tests: records need Jackson, and Dagy's serializers allow {@code io.dagy} types. */
    public record Noted(String aggregate, long sequence) {
    }
}
