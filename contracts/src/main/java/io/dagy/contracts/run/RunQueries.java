package io.dagy.contracts.run;

import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;

import java.time.Instant;
import java.util.Collection;
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

    /**
     * How many of a run's tasks are where, as the run decides it: {@code pending} (not ready yet), {@code active}
     * (ready: queued, running or waiting for a retry), and the final states. Kept from the run's own events, so it
     * never lags the run's outcome, and costs nothing per task-run event.
     */
    public record TaskCounts(int pending, int active, int succeeded, int failed, int timedOut, int cancelled, int skipped,
                             int upstreamFailed) {

        /** A run of {@code tasks} tasks, none ready yet. */
        public static TaskCounts of(int tasks) {
            return new TaskCounts(tasks, 0, 0, 0, 0, 0, 0, 0);
        }

        /** {@code count} pending tasks became ready. */
        public TaskCounts ready(int count) {
            return new TaskCounts(pending - count, active + count, succeeded, failed, timedOut, cancelled, skipped,
                    upstreamFailed);
        }

        /** An active task reached a final state. */
        public TaskCounts outcome(TaskStatus outcome) {
            return new TaskCounts(pending, active - 1, succeeded, failed, timedOut, cancelled, skipped, upstreamFailed)
                    .plus(outcome, 1);
        }

        /** Pending tasks that will never run. */
        public TaskCounts notRun(Collection<TaskStatus> outcomes) {
            TaskCounts counts = new TaskCounts(pending - outcomes.size(), active, succeeded, failed, timedOut, cancelled,
                    skipped, upstreamFailed);
            for (TaskStatus outcome : outcomes) {
                counts = counts.plus(outcome, 1);
            }
            return counts;
        }

        /** Final tasks, in these states before, are pending again (a rerun). */
        public TaskCounts reset(Collection<TaskStatus> previous) {
            TaskCounts counts = new TaskCounts(pending + previous.size(), active, succeeded, failed, timedOut, cancelled,
                    skipped, upstreamFailed);
            for (TaskStatus outcome : previous) {
                counts = counts.plus(outcome, -1);
            }
            return counts;
        }

        private TaskCounts plus(TaskStatus status, int delta) {
            return switch (status) {
                case SUCCEEDED -> new TaskCounts(pending, active, succeeded + delta, failed, timedOut, cancelled, skipped,
                        upstreamFailed);
                case FAILED -> new TaskCounts(pending, active, succeeded, failed + delta, timedOut, cancelled, skipped,
                        upstreamFailed);
                case TIMED_OUT -> new TaskCounts(pending, active, succeeded, failed, timedOut + delta, cancelled, skipped,
                        upstreamFailed);
                case CANCELLED -> new TaskCounts(pending, active, succeeded, failed, timedOut, cancelled + delta, skipped,
                        upstreamFailed);
                case SKIPPED -> new TaskCounts(pending, active, succeeded, failed, timedOut, cancelled, skipped + delta,
                        upstreamFailed);
                case UPSTREAM_FAILED -> new TaskCounts(pending, active, succeeded, failed, timedOut, cancelled, skipped,
                        upstreamFailed + delta);
                case PENDING -> new TaskCounts(pending + delta, active, succeeded, failed, timedOut, cancelled, skipped,
                        upstreamFailed);
                default -> new TaskCounts(pending, active + delta, succeeded, failed, timedOut, cancelled, skipped,
                        upstreamFailed);
            };
        }
    }

    /**
     * The part of a run view that changes with every decision of the run: its task counts and its rerun number.
     * {@code sequence} is the last event of the run aggregate applied, so a redelivered event changes nothing.
     */
    public record RunProgressView(long sequence, int rerun, TaskCounts counts) {
    }

    /**
     * A run's header, task counts and first page of tasks in DAG order; {@code tasksNextCursor} continues with
     * {@link ListRunTasks}. {@code counts} is null for a run projected before counts existed (rebuild the view).
     */
    public record RunDetails(RunView run, TaskCounts counts, List<TaskView> tasks, String tasksNextCursor) {
        public RunDetails {
            tasks = List.copyOf(tasks);
        }
    }

    /** A page of a run's tasks, in DAG order; tasks not queued yet are {@code PENDING}. */
    public record ListRunTasks(OrgId organization, RunId runId, String cursor, int limit) {
        public ListRunTasks {
            if (limit < 1 || limit > 500) {
                throw new IllegalArgumentException("limit must be 1..500: " + limit);
            }
        }
    }

    /** A page of tasks; {@code nextCursor} is null on the last page. */
    public record TaskPage(List<TaskView> items, String nextCursor) {
        public TaskPage {
            items = List.copyOf(items);
        }
    }

    /**
     * A page of a run's history: the events of the run and of its task runs in the order they were stored.
     *
     * @param cursor the {@code nextCursor} of the previous page, or null to start at the run's first event
     */
    public record ListRunEvents(OrgId organization, RunId runId, String cursor, int limit) {
        public ListRunEvents {
            if (limit < 1 || limit > 500) {
                throw new IllegalArgumentException("limit must be 1..500: " + limit);
            }
        }
    }

    /**
     * One event of a run's history. {@code position} orders the run's events (a run and its task runs share one
     * event-store shard) and is what a client resumes after; {@code aggregateId} is the run's id or
     * {@code <run id>/<task id>}; {@code payload} is the event as stored.
     */
    public record RunEventView(long position, String type, String aggregateId, long sequence, Instant timestamp,
                               Object payload) {
    }

    /**
     * A page of history. {@code nextCursor} continues after the last position examined; it is null when the page
     * reached the end of what is stored now (a later call with {@code after} may find more while the run goes on).
     * {@code lastPosition} is the last position examined, whatever the page held.
     */
    public record RunEventPage(List<RunEventView> items, String nextCursor, long lastPosition) {
        public RunEventPage {
            items = List.copyOf(items);
        }
    }
}
