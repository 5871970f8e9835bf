package io.dagy.contracts.run;

import io.dagy.contracts.deployment.DeploymentName;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Queries on runs and the views they answer with. */
public final class RunQueries {

    private RunQueries() {
    }

    public record FindRun(RunId runId) {
    }

    /** A run's header: what it runs and how it is going. */
    public record RunView(RunId runId, DeploymentName deployment, int version, RunStatus status, Instant startedAt,
                          Instant endedAt, List<String> taskIds) {
        public RunView {
            taskIds = List.copyOf(taskIds);
        }
    }

    /** One task of a run and its attempts; {@code sequence} is the last task-run event applied. */
    public record TaskView(String taskId, TaskStatus status, List<AttemptView> attempts, long sequence) {
        public TaskView {
            attempts = List.copyOf(attempts);
        }
    }

    public record AttemptView(int attempt, TaskStatus status, Instant dispatchedAt, Instant startedAt, Instant endedAt,
                              String errorKind, String message, Map<String, Object> output) {
    }

    /** A run with every task, in DAG order; tasks not queued yet are {@code PENDING}. */
    public record RunDetails(RunView run, List<TaskView> tasks) {
        public RunDetails {
            tasks = List.copyOf(tasks);
        }
    }
}
