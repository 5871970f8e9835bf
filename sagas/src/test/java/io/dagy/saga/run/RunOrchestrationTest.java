package io.dagy.saga.run;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunCommands.QueueTasks;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.messaging.MetaData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fan-out too large for the commit that made it ready is queued by the orchestration: in batches when its tasks are
 * new, task by task for a batch refused because some of its task runs exist (the event handled again), and task by
 * task for a rerun, whose task runs may exist.
 */
class RunOrchestrationTest {

    private static final RunId RUN = new RunId("r-fan");
    private static final MetaData ORG = MetaData.with(MessageKeys.ORG_ID, "acme");

    private final RunOrchestration orchestration = new RunOrchestration();
    private final List<CommandMessage<?>> sent = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        orchestration.close();
    }

    @Test
    void newTasksGoInBatchesOnBehalfOfTheRunsOrganization() {
        List<Dag.Task> tasks = tasks(40);

        orchestration.on(new TasksReady(RUN, tasks, Map.of("day", "1"), 0), ORG, gateway(command -> false));

        assertThat(sent).allSatisfy(command -> {
            assertThat(command.getPayload()).isInstanceOf(QueueTasks.class);
            assertThat(command.getMetaData()).containsEntry(MessageKeys.ORG_ID, "acme");
        });
        assertThat(sent.stream().map(command -> ((QueueTasks) command.getPayload()).tasks().size()).sorted())
                .containsExactly(8, 16, 16);
        assertThat(sent.stream().flatMap(command -> ((QueueTasks) command.getPayload()).tasks().stream()))
                .containsExactlyInAnyOrderElementsOf(tasks);
    }

    @Test
    void aRefusedBatchIsQueuedTaskByTaskAndTheOthersAreNot() {
        List<Dag.Task> tasks = tasks(40);
        Dag.Task existing = tasks.get(20); // in the second batch

        orchestration.on(new TasksReady(RUN, tasks, Map.of(), 0), ORG, gateway(command ->
                command instanceof QueueTasks batch && batch.tasks().contains(existing)));

        List<Object> payloads = sent.stream().<Object>map(CommandMessage::getPayload).toList();
        assertThat(payloads.stream().filter(QueueTasks.class::isInstance)).hasSize(3);
        assertThat(payloads.stream().filter(QueueTask.class::isInstance).map(command -> ((QueueTask) command).spec()))
                .containsExactlyInAnyOrderElementsOf(tasks.subList(16, 32));
        assertThat(payloads.stream().filter(QueueTask.class::isInstance))
                .allSatisfy(command -> assertThat(((QueueTask) command).rerun()).isZero());
    }

    @Test
    void aRerunsTasksAreQueuedOneByOne() {
        List<Dag.Task> tasks = tasks(20);

        orchestration.on(new TasksReady(RUN, tasks, Map.of(), 2), ORG, gateway(command -> false));

        assertThat(sent).hasSize(20).allSatisfy(command -> {
            assertThat(command.getPayload()).isInstanceOf(QueueTask.class);
            assertThat(((QueueTask) command.getPayload()).rerun()).isEqualTo(2);
        });
    }

    /** A gateway recording what is sent, and refusing (as a failed append would) the commands {@code refuses} names. */
    private CommandGateway gateway(Predicate<Object> refuses) {
        return (CommandGateway) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{CommandGateway.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("sendAndWait") || !(args[0] instanceof CommandMessage<?> command)) {
                        throw new AssertionError("unexpected call " + method);
                    }
                    sent.add(command);
                    if (refuses.test(command.getPayload())) {
                        throw new IllegalStateException("an aggregate of the batch exists");
                    }
                    return null;
                });
    }

    private static List<Dag.Task> tasks(int count) {
        return IntStream.range(0, count).mapToObj(i -> new Dag.Task("t" + i, new Dag.Backend(BackendType.NOOP, Map.of()),
                List.of("root"), TriggerRule.ALL_SUCCESS, Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null),
                Map.of())).toList();
    }
}
