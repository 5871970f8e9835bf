package io.dagy.eventstore.tokens;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many claims a {@link DynamoTokenStore} has taken per processor on this node. What this node read of a
 * processor's segments stays true while the number stands still, as far as other nodes' work on those segments goes:
 * another node can only have changed a segment this node holds if this node lost the claim in between, and this node
 * only handles the segment again after claiming it anew, which moves the number. A reader notes the number before it
 * reads and may reuse what it read while the number is unchanged ({@code DynamoSequencedDeadLetterQueue} does).
 */
public final class ClaimEpochs {

    private final Map<String, AtomicLong> epochs = new ConcurrentHashMap<>();

    /** The number of claims taken so far on {@code processor}'s segments; 0 before the first. */
    public long of(String processor) {
        AtomicLong epoch = epochs.get(processor);
        return epoch == null ? 0 : epoch.get();
    }

    void claimed(String processor) {
        epochs.computeIfAbsent(processor, key -> new AtomicLong()).incrementAndGet();
    }
}
