package io.dagy.testdomain;

import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.deadline.annotation.DeadlineHandler;
import org.axonframework.modelling.saga.EndSaga;
import org.axonframework.modelling.saga.SagaEventHandler;
import org.axonframework.modelling.saga.StartSaga;
import org.axonframework.spring.stereotype.Saga;

import java.time.Duration;

/**
 * A test-only saga: closes a counter named {@code close-at-3-…} once it reaches three, and any counter when its
 * auto-close deadline fires. Its state lives in
 * the DynamoDB saga store, its deadline in the DynamoDB deadline manager.
 */
@Saga
public class CounterSaga {

    private String counterId;
    private int seen;
    private boolean closeAtThree;

    @StartSaga
    @SagaEventHandler(associationProperty = "counterId")
    void on(Counter.CounterOpened event, DeadlineManager deadlines) {
        counterId = event.counterId();
        closeAtThree = event.counterId().startsWith("close-at-3-");
        if (event.autoCloseAfterMillis() > 0) {
            deadlines.schedule(Duration.ofMillis(event.autoCloseAfterMillis()), "auto-close", new AutoClose(counterId));
        }
    }

    /** A deadline handler's first parameter is its payload, so the deadline carries one. */
    public record AutoClose(String counterId) {
    }

    @DeadlineHandler(deadlineName = "auto-close")
    void on(AutoClose deadline, CommandGateway commands) {
        commands.send(new Counter.CloseCounter(deadline.counterId()));
    }

    @SagaEventHandler(associationProperty = "counterId")
    void on(Counter.Incremented event, CommandGateway commands) {
        seen++;
        if (event.count() == 3 && closeAtThree) {
            commands.send(new Counter.CloseCounter(counterId));
        }
    }

    @EndSaga
    @SagaEventHandler(associationProperty = "counterId")
    void on(Counter.CounterClosed event) {
        // the saga ends here
    }
}
