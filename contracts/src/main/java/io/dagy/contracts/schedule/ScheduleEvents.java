package io.dagy.contracts.schedule;

import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunStatus;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Events of schedules. Never rename or move these records; change a shape with a revision and an upcaster. Fire times
 * are the logical (nominal) instants of the spec, before jitter.
 */
public final class ScheduleEvents {

    private ScheduleEvents() {
    }

    /** A schedule was created for its deployment. */
    public record ScheduleCreated(ScheduleId scheduleId, ScheduleSpec spec, Map<String, Object> params) {
    }

    /** Its spec or params were replaced; fires planned under the old spec are dropped. */
    public record ScheduleUpdated(ScheduleId scheduleId, ScheduleSpec spec, Map<String, Object> params) {
    }

    /** It fires no more. */
    public record ScheduleDeleted(ScheduleId scheduleId) {
    }

    public record SchedulePaused(ScheduleId scheduleId, String note) {
    }

    public record ScheduleUnpaused(ScheduleId scheduleId) {
    }

    /**
     * The next fire is planned at {@code fireTime} (its deadline is due at {@code dueAt}, the fire time plus its
     * jitter); {@code null} when the spec has no fire time left (its end passed).
     */
    public record ScheduleFirePlanned(ScheduleId scheduleId, Instant fireTime, Instant dueAt) {
    }

    /**
     * A fire starts the run {@code runId} with {@code params} (the schedule's, plus {@code fire_time} and
     * {@code schedule_id}). The run id is derived from the schedule and the fire, so a fire is one run however many
     * nodes, retries or restarts handle it.
     */
    public record ScheduleFired(ScheduleId scheduleId, RunId runId, Instant fireTime, FireKind kind,
                                Map<String, Object> params) {
    }

    /** A fire did not run: {@code overlap} (a run still ran), {@code buffer_full}, or {@code paused}. */
    public record ScheduleFireSkipped(ScheduleId scheduleId, Instant fireTime, FireKind kind, String reason) {
    }

    /** Fires older than the catch-up window when the schedule woke up: {@code count} of them, none ran. */
    public record ScheduleFiresMissed(ScheduleId scheduleId, long count, Instant first, Instant last) {
    }

    /** A fire waits for the running run to end (buffer_one, buffer_all, cancel_other). */
    public record ScheduleFireBuffered(ScheduleId scheduleId, Instant fireTime, FireKind kind, RunId runId) {
    }

    /** A run the schedule started is to be cancelled (cancel_other, terminate_other). */
    public record ScheduledRunCancelRequested(ScheduleId scheduleId, RunId runId) {
    }

    /** A run the schedule started ended ({@code status}), or could not start ({@code status} null, {@code reason}). */
    public record ScheduledRunEnded(ScheduleId scheduleId, RunId runId, RunStatus status, String reason) {
    }

    /** A backfill was asked for: these fire times will fire, in order, with {@code overlap}. */
    public record ScheduleBackfillRequested(ScheduleId scheduleId, int backfill, List<Instant> fireTimes,
                                            OverlapPolicy overlap) {
        public ScheduleBackfillRequested {
            fireTimes = List.copyOf(fireTimes);
        }
    }

    /** A backfill step took the next {@code taken} fire times of the backfills; its fires follow in the same step. */
    public record ScheduleBackfillAdvanced(ScheduleId scheduleId, int taken) {
    }
}
