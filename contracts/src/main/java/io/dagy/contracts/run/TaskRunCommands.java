package io.dagy.contracts.run;

import io.dagy.contracts.AggregateCommand;
import io.dagy.contracts.deployment.Dag;

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
