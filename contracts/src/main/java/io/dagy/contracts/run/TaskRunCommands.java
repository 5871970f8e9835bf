package io.dagy.contracts.run;

import io.dagy.contracts.AggregateCommand;
import io.dagy.contracts.deployment.Dag;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Commands on task runs. Reports name their attempt; a report for an older attempt changes nothing. */
public final class TaskRunCommands {

    private TaskRunCommands() {
    }

    /**
     * Queues a task of a run: creates its task run and dispatches its first attempt, or, if the task ran in an
     * earlier execution and ended unsuccessfully, runs it again for rerun number {@code rerun} as a new attempt with a
     * fresh retry budget. Repeating it changes nothing.
     */
    public record QueueTask(TaskRunId taskRunId, Dag.Task spec, Map<String, Object> params, int rerun)
            implements AggregateCommand {
        public QueueTask {
            params = params == null ? Map.of() : Map.copyOf(params);
        }

        @Override
        public String targetAggregateId() {
            return taskRunId.value();
        }
    }

    /**
     * Queues tasks that are new to their run (its first execution, not a rerun) in one unit of work: their task runs
     * are created, not loaded, so a batch is one append and no read. The orchestration sends a fan-out too large for
     * the unit of work that made it ready in {@link #batches}. A batch of which some task run exists already (its
     * event was handled before) is refused whole, with nothing written; the orchestration then queues its tasks one by
     * one ({@link #each}), which finds those that exist.
     */
    public record QueueTasks(RunId runId, List<Dag.Task> tasks, Map<String, Object> params) {

        /** Tasks in one batch: two events each, 32, within the event store's 50 per unit of work. */
        public static final int MAX_TASKS = 16;

        /**
         * A bound on the characters of the specs and params one batch's events carry (each queued task's events carry
         * its spec and the run's params), far below a transaction's 4 MB with every event stored twice.
         */
        public static final long MAX_CHARACTERS = 1_000_000;

        public QueueTasks {
            tasks = List.copyOf(tasks);
            params = params == null ? Map.of() : Map.copyOf(params);
        }

        /** The run's tasks in batches of at most {@link #MAX_TASKS} tasks and {@link #MAX_CHARACTERS} characters. */
        public static List<QueueTasks> batches(RunId runId, List<Dag.Task> tasks, Map<String, Object> params) {
            List<QueueTasks> batches = new ArrayList<>();
            List<Dag.Task> batch = new ArrayList<>();
            for (Dag.Task task : tasks) {
                batch.add(task);
                if (batch.size() > 1 && (batch.size() > MAX_TASKS || characters(batch, params) > MAX_CHARACTERS)) {
                    batch.remove(batch.size() - 1);
                    batches.add(new QueueTasks(runId, batch, params));
                    batch = new ArrayList<>(List.of(task));
                }
            }
            if (!batch.isEmpty()) {
                batches.add(new QueueTasks(runId, batch, params));
            }
            return batches;
        }

        /** About the characters the events of queueing {@code tasks} carry: each task's spec twice, the params once more. */
        public static long characters(List<Dag.Task> tasks, Map<String, Object> params) {
            long characters = (long) String.valueOf(params).length() * (tasks.size() + 1);
            for (Dag.Task task : tasks) {
                characters += 2L * task.toString().length();
            }
            return characters;
        }

        /** The batch as one command per task, for a batch refused because some of its task runs exist. */
        public List<QueueTask> each() {
            return tasks.stream().map(task -> new QueueTask(TaskRunId.of(runId, task.id()), task, params, 0)).toList();
        }
    }

    public record StartTaskAttempt(TaskRunId taskRunId, int attempt) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return taskRunId.value();
        }
    }

    public record CompleteTaskAttempt(TaskRunId taskRunId, int attempt, Map<String, Object> output)
            implements AggregateCommand {
        public CompleteTaskAttempt {
            output = output == null ? Map.of() : Map.copyOf(output);
        }

        @Override
        public String targetAggregateId() {
            return taskRunId.value();
        }
    }

    /** The attempt failed with an error kind (for a subprocess, {@code exit_<code>}) that retry policies match. */
    public record FailTaskAttempt(TaskRunId taskRunId, int attempt, String errorKind, String message)
            implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return taskRunId.value();
        }
    }

    /** A timeout of the attempt expired ({@code schedule_to_start}, {@code start_to_close} or {@code heartbeat}). */
    public record TimeOutTaskAttempt(TaskRunId taskRunId, int attempt, String timeout) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return taskRunId.value();
        }
    }

    /** The retry wait of the previous attempt is over: dispatch {@code attempt}. */
    public record DispatchNextAttempt(TaskRunId taskRunId, int attempt) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return taskRunId.value();
        }
    }

    /** Stops the task run: its running attempt is killed in its backend, no further attempt starts. */
    public record CancelTaskRun(TaskRunId taskRunId) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return taskRunId.value();
        }
    }

    /** The attempt is alive (external workers send these); it restarts the heartbeat timeout. */
    public record RecordHeartbeat(TaskRunId taskRunId, int attempt) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return taskRunId.value();
        }
    }
}
