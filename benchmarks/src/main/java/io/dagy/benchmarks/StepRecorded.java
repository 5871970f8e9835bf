package io.dagy.benchmarks;

import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * The one event type of the benchmarks: a step of a {@link BenchAggregate}, with a text field to give it a realistic
 * size.
 */
public record StepRecorded(String aggregateId, long step, String detail) {

    static final String AGGREGATE_TYPE = BenchAggregate.class.getSimpleName();

    /** {@code count} domain events of one aggregate with the sequence numbers {@code first, first + 1, ...}. */
    static List<EventMessage<?>> batch(String aggregateId, long first, int count, String detail) {
        List<EventMessage<?>> events = new ArrayList<>(count);
        for (long sequence = first; sequence < first + count; sequence++) {
            events.add(new GenericDomainEventMessage<>(AGGREGATE_TYPE, aggregateId, sequence,
                    new StepRecorded(aggregateId, sequence, detail)));
        }
        return events;
    }

    /** A text of {@code chars} characters, the same in every event. */
    static String detailOf(int chars) {
        return "x".repeat(chars);
    }
}
