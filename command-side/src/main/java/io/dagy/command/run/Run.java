package io.dagy.command.run;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.common.DagyRuleViolation;
import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.run.RunCommands.CancelRun;
import io.dagy.contracts.run.RunCommands.RecordTaskOutcome;
import io.dagy.contracts.run.RunCommands.RerunRun;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.RunEvents.RunRerunStarted;
import io.dagy.contracts.run.RunEvents.RunCancelling;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.run.RunEvents.TaskOutcomeRecorded;
import io.dagy.contracts.run.RunEvents.TasksNotRun;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunStatus;
import io.dagy.command.common.Tenancy;
import io.dagy.contracts.identity.OrgId;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.modelling.command.CommandHandlerInterceptor;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * One run of a deployment version: owns DAG progress (which tasks run, which never will) and the run's outcome. The
 * DAG is copied into the run when it starts, so a later deployment change never alters it. Each command emits at most
 * four events (the outcome, the tasks that will not run, the tasks that run now, the end), whatever the DAG's size.
 */
@Aggregate(commandTargetResolver = DagyCommandTargetResolver.BEAN_NAME, cache = "runCache")
public class Run {

    @AggregateIdentifier
    private String runId;
    private RunStatus status;
    private RunProgress progress;
    private Map<String, Object> params;
    private int rerun;
    private OrgId organization;
    /** The tasks this run queued as it started, for {@link RunStarter} to create in the same unit of work. */
    private transient List<QueueTask> queuedAtStart = List.of();

    protected Run() {
        // for Axon
    }

    /** Starts a run; called by {@link RunStarter} with the deployment version the run pins. */
    Run(RunId runId, OrgId organization, DeploymentName deployment, int version, Dag dag, Map<String, Object> params,
        DeploymentSettings settings) {
        Tenancy.stamp(organization);
        apply(new RunStarted(runId, organization, deployment, version, dag, params, settings));
        // while the aggregate is being created Axon applies events after the constructor returns, so the start
        // decision comes from a fresh progress rather than from this aggregate's state
        RunProgress start = new RunProgress(dag);
        RunProgress.Decision decision = start.decideStart();
        if (!decision.ready().isEmpty()) {
            List<Dag.Task> ready = decision.ready().stream().map(start::task).toList();
            boolean queued = InlineQueue.fits(ready, params);
            apply(new TasksReady(runId, ready, params, 0, queued));
            queuedAtStart = queued ? InlineQueue.commands(runId, ready, params, 0) : List.of();
        }
    }

    /** The task runs to create with the run's start (once: a second call answers none). */
    List<QueueTask> takeQueuedAtStart() {
        List<QueueTask> queued = queuedAtStart;
        queuedAtStart = List.of();
        return queued;
    }

    @CommandHandlerInterceptor
    void stampOrganization() {
        Tenancy.stamp(organization);
    }

    /** A run of another organization does not exist for the caller: the same answer as for an unknown id. */
    private void requireOwnedBy(OrgId caller) {
        if (!organization.equals(caller)) {
            throw new DagyRuleViolation(BusinessError.of(ErrorCode.RUN_NOT_FOUND, "No run has id '" + runId + "'."));
        }
    }

    /**
     * An outcome reported by the orchestration: task runs that ended before outcomes were recorded with them
     * ({@code TaskRunFinished} without {@code recordedByRun}). The tasks it makes ready are queued by the orchestration.
     */
    @CommandHandler
    void handle(RecordTaskOutcome command) {
        record(command.taskId(), command.outcome(), false);
    }

    /**
     * Records a task's outcome in the unit of work that ended its task run ({@link TaskOutcomes}), and answers the
     * task runs to create in that same unit of work: those it makes ready, when they are few (see {@link InlineQueue}).
     */
    List<QueueTask> recordOutcome(String taskId, TaskStatus outcome) {
        Tenancy.stamp(organization);
        return record(taskId, outcome, true);
    }

    private List<QueueTask> record(String taskId, TaskStatus outcome, boolean queueInline) {
        if (!progress.has(taskId)) {
            throw new DagyRuleViolation(BusinessError.of(ErrorCode.VALIDATION_FAILED,
                    "run " + runId + " has no task '" + taskId + "'"));
        }
        if (!outcome.isTerminal()) {
            throw new IllegalArgumentException("not a final task state: " + outcome);
        }
        if (status.isTerminal() || progress.status(taskId).isTerminal()) {
            return List.of(); // a late or repeated report
        }
        apply(new TaskOutcomeRecorded(new RunId(runId), taskId, outcome));
        return decide(progress.decideAfter(List.of(taskId)), queueInline);
    }

    @CommandHandler
    void handle(CancelRun command) {
        requireOwnedBy(command.organization());
        if (status.isTerminal() || status == RunStatus.CANCELLING) {
            return;
        }
        Map<String, TaskStatus> notStarted = new LinkedHashMap<>();
        progress.pending().forEach(taskId -> notStarted.put(taskId, TaskStatus.CANCELLED));
        apply(new RunCancelling(command.runId(), progress.active()));
        if (!notStarted.isEmpty()) {
            apply(new TasksNotRun(command.runId(), notStarted));
        }
        finishIfAllFinal();
    }

    @CommandHandler
    void handle(RerunRun command) {
        requireOwnedBy(command.organization());
        if (!status.isTerminal()) {
            throw new DagyRuleViolation(BusinessError.of(ErrorCode.RUN_NOT_FINISHED,
                    "run " + runId + " is " + status + "; only a finished run can be rerun"));
        }
        List<String> again = progress.rerunnable();
        if (again.isEmpty()) {
            return; // every task succeeded or was skipped: nothing to run again
        }
        apply(new RunRerunStarted(command.runId(), again, rerun + 1));
        decide(progress.decidePending(), false);
    }

    /**
     * Applies a decision; answers the task runs to queue in this unit of work. A rerun's tasks have task runs already
     * (they are requeued), so only a first execution queues inline.
     */
    private List<QueueTask> decide(RunProgress.Decision decision, boolean queueInline) {
        RunId id = new RunId(runId);
        Map<String, TaskStatus> notRun = new LinkedHashMap<>(decision.notRun());
        if (status == RunStatus.CANCELLING) {
            decision.ready().forEach(taskId -> notRun.put(taskId, TaskStatus.CANCELLED)); // nothing new starts
        }
        if (!notRun.isEmpty()) {
            apply(new TasksNotRun(id, notRun));
        }
        List<QueueTask> queue = List.of();
        if (status != RunStatus.CANCELLING && !decision.ready().isEmpty()) {
            List<Dag.Task> ready = decision.ready().stream().map(progress::task).toList();
            boolean queued = queueInline && rerun == 0 && InlineQueue.fits(ready, params);
            apply(new TasksReady(id, ready, params, rerun, queued));
            queue = queued ? InlineQueue.commands(id, ready, params, rerun) : List.of();
        }
        finishIfAllFinal();
        return queue;
    }

    private void finishIfAllFinal() {
        if (progress.allFinal()) {
            RunStatus outcome = status == RunStatus.CANCELLING ? RunStatus.CANCELLED : progress.outcome();
            apply(new RunFinished(new RunId(runId), outcome, progress.failedLeaves()));
        }
    }

    @EventSourcingHandler
    void on(RunStarted event) {
        runId = event.runId().value();
        organization = event.organization();
        params = event.params();
        progress = new RunProgress(event.dag());
        status = RunStatus.RUNNING;
    }

    @EventSourcingHandler
    void on(TasksReady event) {
        progress.markQueued(event.taskIds());
    }

    @EventSourcingHandler
    void on(TasksNotRun event) {
        event.outcomes().forEach(progress::markFinal);
    }

    @EventSourcingHandler
    void on(TaskOutcomeRecorded event) {
        progress.markFinal(event.taskId(), event.outcome());
    }

    @EventSourcingHandler
    void on(RunRerunStarted event) {
        rerun = event.rerun();
        status = RunStatus.RUNNING;
        progress.reset(event.resetTasks());
    }

    @EventSourcingHandler
    void on(RunCancelling event) {
        status = RunStatus.CANCELLING;
    }

    @EventSourcingHandler
    void on(RunFinished event) {
        status = event.status();
    }
}
