package io.dagy.saga.run;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.run.RunCommands.RecordTaskOutcome;
import io.dagy.contracts.run.RunEvents.RunCancelling;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.TaskRunCommands.CancelTaskRun;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.modelling.command.AggregateStreamCreationException;

/**
 * Connects a run and its task runs: queues the tasks a run declares ready, and reports each task run's end back to
 * its run. Both commands are idempotent (a task run exists once; an outcome is recorded once), so redelivery is safe.
 * Events of one run are handled in order, on one segment ({@link RunSequencingPolicy}).
 */
@ProcessingGroup(RunOrchestration.PROCESSING_GROUP)
public class RunOrchestration {

    public static final String PROCESSING_GROUP = "run-orchestration";

    @EventHandler
    void on(TasksReady event, CommandGateway commands) {
        for (Dag.Task task : event.tasks()) {
            try {
                commands.sendAndWait(new QueueTask(TaskRunId.of(event.runId(), task.id()), task, event.params()));
            } catch (AggregateStreamCreationException alreadyQueued) {
                // queued by an earlier delivery of this event
            }
        }
    }

    @EventHandler
    void on(RunCancelling event, CommandGateway commands) {
        event.activeTasks().forEach(taskId -> commands.sendAndWait(
                new CancelTaskRun(TaskRunId.of(event.runId(), taskId))));
    }

    @EventHandler
    void on(TaskRunFinished event, CommandGateway commands) {
        commands.sendAndWait(new RecordTaskOutcome(event.runId(), event.taskId(), event.outcome()));
    }
}
