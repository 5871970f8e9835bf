package io.dagy.contracts.run;

import io.dagy.contracts.Revision;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.identity.OrgId;

import java.util.List;
import java.util.Map;

/** Events of runs. Never rename or move these records; change a shape with a revision and an upcaster. */
public final class RunEvents {

    private RunEvents() {
    }

    /**
     * A run started with a copy of the deployment version it pins. Revision 1 added the organization that owns the
     * run; events of revision {@code null} belong to {@link OrgId#DEFAULT}.
     */
    @Revision("1")
    public record RunStarted(RunId runId, OrgId organization, DeploymentName deployment, int version, Dag dag,
                             Map<String, Object> params, DeploymentSettings settings) {
    }

    /**
     * Tasks whose trigger rules are met: they should run now. Each carries its spec and the run's params, so whoever
     * queues them needs no other state; {@code rerun} counts the reruns of the run (0 for its first execution).
     * {@code queued} is true when their task runs were queued in the same commit as this event (a small fan-out,
     * decided with the outcome that made them ready; docs/runs.md), so nobody has to queue them; events stored before
     * it existed read as {@code false}.
     */
    public record TasksReady(RunId runId, List<Dag.Task> tasks, Map<String, Object> params, int rerun, Boolean queued) {

        public TasksReady {
            queued = Boolean.TRUE.equals(queued); // absent from events stored before it existed
        }

        public TasksReady(RunId runId, List<Dag.Task> tasks, Map<String, Object> params, int rerun) {
            this(runId, tasks, params, rerun, false);
        }

        public List<String> taskIds() {
            return tasks.stream().map(Dag.Task::id).toList();
        }
    }

    /** Tasks that will never run ({@code SKIPPED} or {@code UPSTREAM_FAILED}), by task id. */
    public record TasksNotRun(RunId runId, Map<String, TaskStatus> outcomes) {
    }

    /**
     * Cancellation was asked for: {@code activeTasks} were queued or running and are being stopped; tasks that had
     * not started are cancelled by a {@link TasksNotRun} in the same unit of work.
     */
    public record RunCancelling(RunId runId, List<String> activeTasks) {
    }

    /** The run runs again: these tasks are pending again, and {@code rerun} counts the reruns so far. */
    public record RunRerunStarted(RunId runId, List<String> resetTasks, int rerun) {
    }

    /** A task reached a final state. */
    public record TaskOutcomeRecorded(RunId runId, String taskId, TaskStatus outcome) {
    }

    /** Every task is final; the leaf tasks decided the outcome (see docs/runs.md). */
    public record RunFinished(RunId runId, RunStatus status, List<String> failedLeaves) {
    }
}
