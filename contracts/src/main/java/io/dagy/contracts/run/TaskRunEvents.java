package io.dagy.contracts.run;

import io.dagy.contracts.deployment.Dag;

import java.time.Duration;
import java.util.Map;

/** Events of task runs. Never rename or move these records; change a shape with a revision and an upcaster. */
public final class TaskRunEvents {

    private TaskRunEvents() {
    }

    /** The task run is queued for rerun number {@code rerun} of its run (0: the run's first execution). */
    public record TaskQueued(TaskRunId taskRunId, RunId runId, String taskId, int rerun) {
    }

    /**
     * An attempt is handed to its backend under {@code dispatchId} (run/task/attempt), which the backend uses as its
     * idempotency token. It carries the spec, so the executor needs no other state.
     */
    public record TaskAttemptDispatched(TaskRunId taskRunId, int attempt, String dispatchId, Dag.Task spec,
                                       Map<String, Object> params) {
    }

    public record TaskAttemptStarted(TaskRunId taskRunId, int attempt) {
    }

    public record TaskAttemptHeartbeat(TaskRunId taskRunId, int attempt) {
    }

    public record TaskAttemptSucceeded(TaskRunId taskRunId, int attempt, Map<String, Object> output) {
    }

    /** An attempt failed; {@code retryIn} is the wait before the next attempt, or null when none follows. */
    public record TaskAttemptFailed(TaskRunId taskRunId, int attempt, String errorKind, String message,
                                    Duration retryIn) {
    }

    /**
     * The task run ended: {@code SUCCEEDED}, {@code FAILED}, {@code TIMED_OUT} or {@code CANCELLED}.
     * {@code recordedByRun} is true when the run recorded the outcome in the same commit as this event (docs/runs.md),
     * so nobody has to report it to the run; events stored before it existed read as {@code false}.
     */
    public record TaskRunFinished(TaskRunId taskRunId, RunId runId, String taskId, TaskStatus outcome, int attempts,
                                  Boolean recordedByRun) {

        public TaskRunFinished {
            recordedByRun = Boolean.TRUE.equals(recordedByRun); // absent from events stored before it existed
        }

        public TaskRunFinished(TaskRunId taskRunId, RunId runId, String taskId, TaskStatus outcome, int attempts) {
            this(taskRunId, runId, taskId, outcome, attempts, false);
        }
    }
}
