package io.dagy.command.run;

import io.dagy.command.task.TaskRun;
import io.dagy.contracts.run.TaskRunCommands.CancelTaskRun;
import io.dagy.contracts.run.TaskRunCommands.CompleteTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.FailTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunCommands.TimeOutTaskAttempt;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.contracts.run.TaskStatus;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.modelling.command.Repository;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The commands that may end a task run. When one does, its run records the outcome and decides what runs next, and
 * the task runs that become ready are queued, all in this one unit of work: one append, one DynamoDB transaction, per
 * hop of a DAG (docs/runs.md, "The path of one task"). The events are the same as when the orchestration relayed each
 * step; {@code TaskRunFinished.recordedByRun} and {@code TasksReady.queued} say that nothing is left to relay.
 */
public class TaskOutcomes {

    private final Repository<TaskRun> taskRuns;
    private final Repository<Run> runs;

    public TaskOutcomes(Repository<TaskRun> taskRuns, Repository<Run> runs) {
        this.taskRuns = taskRuns;
        this.runs = runs;
    }

    /**
     * The run whose commits the commands handled here share ({@code GroupCommitCommandBus}, decision 97): outcomes of
     * one run's task runs that arrive together commit together. {@code null} for any other command.
     */
    public static String runOf(Object command) {
        TaskRunId taskRun = command instanceof CompleteTaskAttempt complete ? complete.taskRunId()
                : command instanceof FailTaskAttempt fail ? fail.taskRunId()
                : command instanceof TimeOutTaskAttempt timeOut ? timeOut.taskRunId()
                : command instanceof CancelTaskRun cancel ? cancel.taskRunId()
                : null;
        return taskRun == null ? null : taskRun.runId().value();
    }

    @CommandHandler
    void handle(CompleteTaskAttempt command) throws Exception {
        end(command.taskRunId(), taskRun -> taskRun.complete(command));
    }

    @CommandHandler
    void handle(FailTaskAttempt command) throws Exception {
        end(command.taskRunId(), taskRun -> taskRun.fail(command));
    }

    @CommandHandler
    void handle(TimeOutTaskAttempt command) throws Exception {
        end(command.taskRunId(), taskRun -> taskRun.timeOut(command));
    }

    @CommandHandler
    void handle(CancelTaskRun command) throws Exception {
        end(command.taskRunId(), taskRun -> taskRun.cancel(command));
    }

    private void end(TaskRunId id, Function<TaskRun, Optional<TaskStatus>> report) throws Exception {
        Optional<TaskStatus> ended = taskRuns.load(id.value()).invoke(report);
        if (ended.isEmpty()) {
            return; // a late or repeated report, or a retry: the run has nothing to record
        }
        List<QueueTask> ready = runs.load(id.runId().value()).invoke(run -> run.recordOutcome(id.taskId(), ended.get()));
        for (QueueTask queue : ready) {
            taskRuns.newInstance(() -> new TaskRun(queue));
        }
    }
}
