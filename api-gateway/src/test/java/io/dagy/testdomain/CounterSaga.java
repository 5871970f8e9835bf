package io.dagy.testdomain;

import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.modelling.saga.EndSaga;
import org.axonframework.modelling.saga.SagaEventHandler;
import org.axonframework.modelling.saga.StartSaga;
import org.axonframework.spring.stereotype.Saga;

/** A test-only saga: closes a counter once it reaches three. Its state lives in the DynamoDB saga store. */
@Saga
public class CounterSaga {

    private String counterId;
    private int seen;

    @StartSaga
    @SagaEventHandler(associationProperty = "counterId")
    void on(Counter.CounterOpened event) {
        counterId = event.counterId();
    }

    @SagaEventHandler(associationProperty = "counterId")
    void on(Counter.Incremented event, CommandGateway commands) {
        seen++;
        if (event.count() == 3) {
            commands.send(new Counter.CloseCounter(counterId));
        }
    }

    @EndSaga
    @SagaEventHandler(associationProperty = "counterId")
    void on(Counter.CounterClosed event) {
        // the saga ends here
    }
}
