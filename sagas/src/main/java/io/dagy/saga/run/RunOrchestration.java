package io.dagy.saga.run;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.run.RunCommands.RecordTaskOutcome;
import io.dagy.contracts.run.RunEvents.RunCancelling;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.TaskRunCommands.CancelTaskRun;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunCommands.RequeueTask;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.modelling.command.AggregateStreamCreationException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Connects a run and its task runs: queues the tasks a run declares ready, and reports each task run's end back to
 * its run. Both commands are idempotent (a task run exists once; an outcome is recorded once), so redelivery is safe.
 * Events of one run are handled in order, on one segment ({@link RunSequencingPolicy}).
 */
@ProcessingGroup(RunOrchestration.PROCESSING_GROUP)
public class RunOrchestration implements AutoCloseable {

    public static final String PROCESSING_GROUP = "run-orchestration";

    /**
     * Commands go out from these threads, not the handler's: Axon would run a command sent from an event handler as a
     * nested unit of work whose events are appended only when the handler's unit of work commits, so a refused append
     * (a task run that exists) would fail this processor's batch instead of the command.
     */
    private final ExecutorService senders = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "run-orchestration-command");
        thread.setDaemon(true);
        return thread;
    });

    private <R> R send(CommandGateway commands, Object command) {
        try {
            return CompletableFuture.supplyAsync(() -> commands.<R>sendAndWait(command), senders).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    @Override
    public void close() {
        senders.shutdown();
    }

    @EventHandler
    void on(TasksReady event, CommandGateway commands) {
        for (Dag.Task task : event.tasks()) {
            TaskRunId taskRunId = TaskRunId.of(event.runId(), task.id());
            try {
                send(commands, new QueueTask(taskRunId, task, event.params(), event.rerun()));
            } catch (RuntimeException e) {
                if (!causedBy(e, AggregateStreamCreationException.class)) {
                    throw e;
                }
                // the task ran before: a rerun requeues it; a redelivery of this event changes nothing
                send(commands, new RequeueTask(taskRunId, event.rerun()));
            }
        }
    }

    private static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    @EventHandler
    void on(RunCancelling event, CommandGateway commands) {
        event.activeTasks().forEach(taskId -> send(commands, new CancelTaskRun(TaskRunId.of(event.runId(), taskId))));
    }

    @EventHandler
    void on(TaskRunFinished event, CommandGateway commands) {
        send(commands, new RecordTaskOutcome(event.runId(), event.taskId(), event.outcome()));
    }
}
