package io.dagy.eventstore.deadletters;

import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.deadletter.Cause;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.deadletter.ThrowableCause;

import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A letter as {@link DynamoSequencedDeadLetterQueue} stores it: the event, why it was parked, and where it sits (its
 * sequence, its index in the sequence and the id that tells it from a letter later stored at the same index).
 * Immutable; the {@code with...} methods return copies, which {@code requeue} writes back.
 */
public final class DynamoDeadLetter implements DeadLetter<EventMessage<?>> {

    private final String letterId;
    private final String sequenceIdentifier;
    private final long index;
    private final String payloadType;
    private final EventMessage<?> message;
    private final Cause cause;
    private final Instant enqueuedAt;
    private final Instant lastTouched;
    private final MetaData diagnostics;
    private final Clock clock;

    DynamoDeadLetter(String letterId, String sequenceIdentifier, long index, String payloadType,
                     EventMessage<?> message, Cause cause, Instant enqueuedAt, Instant lastTouched,
                     MetaData diagnostics, Clock clock) {
        this.letterId = Objects.requireNonNull(letterId);
        this.sequenceIdentifier = Objects.requireNonNull(sequenceIdentifier);
        this.index = index;
        this.payloadType = payloadType;
        this.message = Objects.requireNonNull(message);
        this.cause = cause;
        this.enqueuedAt = Objects.requireNonNull(enqueuedAt);
        this.lastTouched = Objects.requireNonNull(lastTouched);
        this.diagnostics = diagnostics == null ? MetaData.emptyInstance() : diagnostics;
        this.clock = Objects.requireNonNull(clock);
    }

    /** Tells this letter from any other, also one stored later at the same index of a sequence emptied meanwhile. */
    public String letterId() {
        return letterId;
    }

    /** The sequence as the queue stores it: the processor's sequence identifier as text. */
    public String sequenceIdentifier() {
        return sequenceIdentifier;
    }

    /** The position in the sequence: letters are handled in index order. */
    public long index() {
        return index;
    }

    /** The event's payload type as stored, readable without deserializing the payload. */
    public String payloadType() {
        return payloadType;
    }

    @Override
    public EventMessage<?> message() {
        return message;
    }

    @Override
    public Optional<Cause> cause() {
        return Optional.ofNullable(cause);
    }

    @Override
    public Instant enqueuedAt() {
        return enqueuedAt;
    }

    @Override
    public Instant lastTouched() {
        return lastTouched;
    }

    @Override
    public MetaData diagnostics() {
        return diagnostics;
    }

    @Override
    public DeadLetter<EventMessage<?>> markTouched() {
        return new DynamoDeadLetter(letterId, sequenceIdentifier, index, payloadType, message, cause, enqueuedAt,
                clock.instant(), diagnostics, clock);
    }

    /** A copy with the given cause; {@code null} keeps the current one, as Axon's letters do. */
    @Override
    public DeadLetter<EventMessage<?>> withCause(Throwable requeueCause) {
        return new DynamoDeadLetter(letterId, sequenceIdentifier, index, payloadType, message,
                requeueCause == null ? cause : ThrowableCause.asCause(requeueCause), enqueuedAt, lastTouched,
                diagnostics, clock);
    }

    @Override
    public DeadLetter<EventMessage<?>> withDiagnostics(MetaData diagnostics) {
        return new DynamoDeadLetter(letterId, sequenceIdentifier, index, payloadType, message, cause, enqueuedAt,
                lastTouched, diagnostics, clock);
    }

    @Override
    public String toString() {
        return "DynamoDeadLetter{sequence=" + sequenceIdentifier + ", index=" + index + ", message="
                + message.getIdentifier() + ", payloadType=" + payloadType + ", cause=" + cause + ", enqueuedAt="
                + enqueuedAt + ", lastTouched=" + lastTouched + "}";
    }
}
