package io.dagy.contracts.schedule;

import io.dagy.contracts.AggregateCommand;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunStatus;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Commands on schedules. The schedule id names the organization, so a command of another organization addresses
 * another (missing) aggregate: such a schedule does not exist for it.
 */
public final class ScheduleCommands {

    private ScheduleCommands() {
    }

    /**
     * Creates the schedule, or replaces its spec and params ({@code mustExist}: only replace, else
     * {@code schedule_not_found}). Null param values are kept so that the handler can refuse them by name.
     */
    public record PutSchedule(ScheduleId scheduleId, ScheduleSpec spec, Map<String, Object> params, boolean mustExist)
            implements AggregateCommand {
        public PutSchedule {
            params = params == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(params));
        }

        @Override
        public String targetAggregateId() {
            return scheduleId.toString();
        }
    }

    /** Deletes the schedule: it fires no more; runs it started go on. */
    public record DeleteSchedule(ScheduleId scheduleId) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return scheduleId.toString();
        }
    }

    /** Pauses: no fire runs until unpaused (fires due meanwhile are skipped, not caught up). */
    public record PauseSchedule(ScheduleId scheduleId, String note) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return scheduleId.toString();
        }
    }

    /** Unpauses: the next fire is the first fire time after now. */
    public record UnpauseSchedule(ScheduleId scheduleId) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return scheduleId.toString();
        }
    }

    /** Fires now (with the schedule's overlap policy), also while paused; answers the fire. */
    public record TriggerSchedule(ScheduleId scheduleId) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return scheduleId.toString();
        }
    }

    /** Fires once for every fire time of the spec in {@code [from, to]}, with {@code overlap} (default allow_all). */
    public record BackfillSchedule(ScheduleId scheduleId, Instant from, Instant to, OverlapPolicy overlap)
            implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return scheduleId.toString();
        }
    }

    /** A run the schedule started has ended (or could not start): the schedule may start a waiting fire. */
    public record RecordScheduledRunEnded(ScheduleId scheduleId, RunId runId, RunStatus status, String reason)
            implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return scheduleId.toString();
        }
    }

    /** Reads the schedule as it stands (strongly consistent), with its next fire times; answers a {@link ScheduleView}. */
    public record DescribeSchedule(ScheduleId scheduleId, int nextFireTimes) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return scheduleId.toString();
        }
    }
}
