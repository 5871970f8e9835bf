package io.dagy.saga.run;

import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.contracts.run.TaskStatus;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventhandling.AnnotationEventHandlerAdapter;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.messaging.annotation.ClasspathHandlerDefinition;
import org.axonframework.messaging.annotation.ClasspathParameterResolverFactory;
import org.axonframework.messaging.annotation.MultiParameterResolverFactory;
import org.axonframework.messaging.annotation.SimpleResourceParameterResolverFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The run orchestration does not take into its batches the events it has nothing to do for (decision 79): a processor
 * then writes neither a transaction nor a token for them. Its handlers as Axon sees them, with the handler enhancers
 * found on the class path (as the application's).
 */
class RunOrchestrationFilterTest {

    private final RunOrchestration orchestration = new RunOrchestration();
    private final CommandGateway commands = (CommandGateway) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[]{CommandGateway.class}, (proxy, method, args) -> {
                throw new AssertionError("no command expected");
            });
    private final AnnotationEventHandlerAdapter adapter = new AnnotationEventHandlerAdapter(orchestration,
            MultiParameterResolverFactory.ordered(ClasspathParameterResolverFactory.forClass(RunOrchestration.class),
                    new SimpleResourceParameterResolverFactory(List.of(commands))),
            ClasspathHandlerDefinition.forClass(RunOrchestration.class));

    private final RunId run = new RunId("r-1");

    @AfterEach
    void close() {
        orchestration.close();
    }

    @Test
    void tasksQueuedWithTheirDecisionAreNotItsEvents() {
        assertThat(adapter.canHandle(GenericEventMessage.asEventMessage(
                new TasksReady(run, List.of(), Map.of(), 0, true)))).isFalse();
        assertThat(adapter.canHandle(GenericEventMessage.asEventMessage(
                new TasksReady(run, List.of(), Map.of(), 0, false)))).isTrue();
    }

    @Test
    void anEndTheRunRecordedIsNotItsEvent() {
        TaskRunId taskRun = TaskRunId.of(run, "a");
        assertThat(adapter.canHandle(GenericEventMessage.asEventMessage(
                new TaskRunFinished(taskRun, run, "a", TaskStatus.SUCCEEDED, 1, true)))).isFalse();
        assertThat(adapter.canHandle(GenericEventMessage.asEventMessage(
                new TaskRunFinished(taskRun, run, "a", TaskStatus.SUCCEEDED, 1, false)))).isTrue();
    }
}
