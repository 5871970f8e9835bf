package io.dagy.eventstore.events;

import org.axonframework.common.jdbc.PersistenceExceptionResolver;

/**
 * What the engine hands its {@link PersistenceExceptionResolver} when an append was refused because another event
 * already holds one of its aggregate sequence numbers: DynamoDB's duplicate-key violation. The default resolver
 * ({@link #RESOLVER}) recognises it, so Axon turns it into {@code AggregateStreamCreationException} (sequence 0) or
 * {@code ConcurrencyException}; a resolver that does not gets Axon's {@code EventStoreException}, as with Axon's own
 * engines.
 */
public final class AggregateSequenceTakenException extends RuntimeException {

    /** Recognises a taken aggregate sequence anywhere in the cause chain. */
    public static final PersistenceExceptionResolver RESOLVER = exception -> {
        for (Throwable t = exception; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AggregateSequenceTakenException) {
                return true;
            }
        }
        return false;
    };

    private final String aggregateId;
    private final long sequence;

    AggregateSequenceTakenException(String aggregateId, long sequence, Throwable cause) {
        super("aggregate " + aggregateId + " already has an event with sequence number " + sequence, cause);
        this.aggregateId = aggregateId;
        this.sequence = sequence;
    }

    public String aggregateId() {
        return aggregateId;
    }

    public long sequence() {
        return sequence;
    }
}
