package io.dagy.saga.task;

import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.DispatchNextAttempt;
import io.dagy.contracts.run.TaskRunId;
import org.axonframework.commandhandling.CommandExecutionException;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A deadline whose command fails fails itself, so the deadline manager fires it again (and parks it after its
 * attempts): a retry whose dispatch failed once used to leave its task in {@code RETRY_WAIT} for ever.
 */
class TaskSagaDeadlinesTest {

    /** A gateway that refuses every command as Axon's does: {@code send} answers a failed future, the waits throw. */
    private static CommandGateway refusing(List<Object> sent) {
        return (CommandGateway) Proxy.newProxyInstance(TaskSagaDeadlinesTest.class.getClassLoader(),
                new Class<?>[]{CommandGateway.class}, (proxy, method, args) -> {
                    CommandExecutionException refused = new CommandExecutionException("the store is down", null);
                    if (method.getName().equals("send")) {
                        sent.add(args[0]);
                        return CompletableFuture.failedFuture(refused);
                    }
                    if (method.getName().equals("sendAndWait")) {
                        sent.add(args[0]);
                        throw refused;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void aRetryWhoseDispatchFailsFailsItsDeadline() throws Exception {
        TaskExecutionSaga saga = new TaskExecutionSaga();
        Field taskRun = TaskExecutionSaga.class.getDeclaredField("taskRunId");
        taskRun.setAccessible(true);
        taskRun.set(saga, TaskRunId.of(new RunId("r-deadline"), "extract"));
        List<Object> sent = new ArrayList<>();

        assertThatThrownBy(() -> saga.on(new TaskExecutionSaga.RetryDue(2), refusing(sent)))
                .isInstanceOf(CommandExecutionException.class);
        assertThat(sent).containsExactly(new DispatchNextAttempt(TaskRunId.of(new RunId("r-deadline"), "extract"), 2));
    }
}
