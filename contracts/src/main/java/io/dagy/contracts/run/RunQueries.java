package io.dagy.contracts.run;

import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Queries on runs and the views they answer with. */
public final class RunQueries {

    private RunQueries() {
    }

    /** A run of the organization; a run of another organization is not found. */
    public record FindRun(OrgId organization, RunId runId) {
    }

    /**
     * Runs, newest first, optionally of one deployment and in one status, a page at a time.
     *
     * @param cursor the {@code nextCursor} of the previous page, or null for the first page
     */
    public record ListRuns(OrgId organization, DeploymentName deployment, RunStatus status, String cursor, int limit) {
        public ListRuns {
            if (limit < 1 || limit > 100) {
                throw new IllegalArgumentException("limit must be 1..100: " + limit);
            }
        }
    }

    /** A page of runs; {@code nextCursor} is null on the last page. */
    public record RunPage(List<RunView> items, String nextCursor) {
        public RunPage {
            items = List.copyOf(items);
        }
    }

    /**
     * A run's header: what it runs and how it is going. Views written before tenancy have no organization: they
     * belong to {@link OrgId#DEFAULT}.
     */
    public record RunView(RunId runId, OrgId organization, DeploymentName deployment, int version, RunStatus status,
                          Instant startedAt, Instant endedAt, List<String> taskIds) {
        public RunView {
            organization = organization == null ? OrgId.DEFAULT : organization;
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
