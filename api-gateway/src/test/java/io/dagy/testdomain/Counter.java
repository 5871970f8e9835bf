package io.dagy.testdomain;

import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.TargetAggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/** A test-only aggregate that proves Axon's aggregates run on the DynamoDB store inside the application. */
@Aggregate(snapshotTriggerDefinition = "dagySnapshotTrigger")
public class Counter {

    /** Opens a counter; with a positive {@code autoCloseAfterMillis} its saga closes it by deadline. */
    public record OpenCounter(@TargetAggregateIdentifier String counterId, long autoCloseAfterMillis) {
    }

    public record Increment(@TargetAggregateIdentifier String counterId) {
    }

    public record CloseCounter(@TargetAggregateIdentifier String counterId) {
    }

    public record CounterOpened(String counterId, long autoCloseAfterMillis) {
    }

    public record Incremented(String counterId, int count) {
    }

    public record CounterClosed(String counterId, int count) {
    }

    @AggregateIdentifier
    private String counterId;
    private int count;
    private boolean closed;

    protected Counter() {
    }

    @CommandHandler
    public Counter(OpenCounter command) {
        apply(new CounterOpened(command.counterId(), command.autoCloseAfterMillis()));
    }

    @CommandHandler
    void handle(Increment command) {
        if (closed) {
            throw new IllegalStateException("counter " + counterId + " is closed");
        }
        apply(new Incremented(counterId, count + 1));
    }

    @CommandHandler
    void handle(CloseCounter command) {
        if (!closed) {
            apply(new CounterClosed(counterId, count));
        }
    }

    @EventSourcingHandler
    void on(CounterOpened event) {
        counterId = event.counterId();
    }

    @EventSourcingHandler
    void on(Incremented event) {
        count = event.count();
    }

    @EventSourcingHandler
    void on(CounterClosed event) {
        closed = true;
    }
}
