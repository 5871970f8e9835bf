package io.dagy.benchmarks;

import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventsourcing.eventstore.DomainEventStream;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * An engine that counts what aggregate loads read from the engine it wraps: domain events taken from the aggregate
 * streams, and snapshots found. The load benchmark uses it to prove which path a load took.
 */
final class CountingStorageEngine implements EventStorageEngine {

    private final EventStorageEngine delegate;
    private final AtomicLong domainEventsRead = new AtomicLong();
    private final AtomicLong snapshotsRead = new AtomicLong();

    CountingStorageEngine(EventStorageEngine delegate) {
        this.delegate = delegate;
    }

    /** What was read since the last reset. */
    record Reads(long domainEvents, long snapshots) {
    }

    Reads reset() {
        return new Reads(domainEventsRead.getAndSet(0), snapshotsRead.getAndSet(0));
    }

    @Override
    public DomainEventStream readEvents(String aggregateIdentifier, long firstSequenceNumber) {
        return new CountingStream(delegate.readEvents(aggregateIdentifier, firstSequenceNumber));
    }

    @Override
    public Optional<DomainEventMessage<?>> readSnapshot(String aggregateIdentifier) {
        Optional<DomainEventMessage<?>> snapshot = delegate.readSnapshot(aggregateIdentifier);
        snapshot.ifPresent(found -> snapshotsRead.incrementAndGet());
        return snapshot;
    }

    @Override
    public void appendEvents(List<? extends EventMessage<?>> events) {
        delegate.appendEvents(events);
    }

    @Override
    public void storeSnapshot(DomainEventMessage<?> snapshot) {
        delegate.storeSnapshot(snapshot);
    }

    @Override
    public Stream<? extends TrackedEventMessage<?>> readEvents(TrackingToken trackingToken, boolean mayBlock) {
        return delegate.readEvents(trackingToken, mayBlock);
    }

    @Override
    public Optional<Long> lastSequenceNumberFor(String aggregateIdentifier) {
        return delegate.lastSequenceNumberFor(aggregateIdentifier);
    }

    @Override
    public TrackingToken createTailToken() {
        return delegate.createTailToken();
    }

    @Override
    public TrackingToken createHeadToken() {
        return delegate.createHeadToken();
    }

    @Override
    public TrackingToken createTokenAt(Instant dateTime) {
        return delegate.createTokenAt(dateTime);
    }

    private final class CountingStream implements DomainEventStream {
        private final DomainEventStream events;

        CountingStream(DomainEventStream events) {
            this.events = events;
        }

        @Override
        public boolean hasNext() {
            return events.hasNext();
        }

        @Override
        public DomainEventMessage<?> next() {
            DomainEventMessage<?> event = events.next();
            domainEventsRead.incrementAndGet();
            return event;
        }

        @Override
        public DomainEventMessage<?> peek() {
            return events.peek();
        }

        @Override
        public Long getLastSequenceNumber() {
            return events.getLastSequenceNumber();
        }
    }
}
