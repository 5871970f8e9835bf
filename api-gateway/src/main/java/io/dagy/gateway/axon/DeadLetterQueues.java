package io.dagy.gateway.axon;

import io.dagy.eventstore.deadletters.DynamoSequencedDeadLetterQueue;

import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/** The dead-letter queue of every processing group that has one, as Axon built them. */
public final class DeadLetterQueues {

    private final Map<String, DynamoSequencedDeadLetterQueue> queues = new TreeMap<>();

    synchronized DynamoSequencedDeadLetterQueue register(DynamoSequencedDeadLetterQueue queue) {
        queues.put(queue.processingGroup(), queue);
        return queue;
    }

    public synchronized Optional<DynamoSequencedDeadLetterQueue> of(String processingGroup) {
        return Optional.ofNullable(queues.get(processingGroup));
    }

    /** By processing group, in name order. */
    public synchronized SortedMap<String, DynamoSequencedDeadLetterQueue> all() {
        return new TreeMap<>(queues);
    }
}
