package io.dagy.benchmarks;

import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;

/**
 * An event-sourced aggregate for the load-time figure. Its state is what its events sum up to, so a load from a
 * snapshot can be checked against a load from all events. Axon's snapshotter stores the instance itself as the
 * snapshot payload; Jackson reads and writes its fields.
 */
public class BenchAggregate {

    @AggregateIdentifier
    private String id;
    private long steps;
    private long stepSum;

    /** For Axon's aggregate factory and for Jackson. */
    protected BenchAggregate() {
    }

    @EventSourcingHandler
    void on(StepRecorded event) {
        id = event.aggregateId();
        steps++;
        stepSum += event.step();
    }

    long steps() {
        return steps;
    }

    long stepSum() {
        return stepSum;
    }
}
