package io.dagy.contracts.schedule;

import io.dagy.contracts.run.RunId;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A schedule as it stands: its spec, state ({@code active} or {@code paused} with a note), its last fire, the next
 * fire times (logical, before jitter) and counters.
 */
public record ScheduleView(ScheduleId scheduleId, ScheduleSpec spec, Map<String, Object> params, String state,
                           String note, Instant lastFireTime, List<Instant> nextFireTimes, List<RunId> runningRuns,
                           int bufferedFires, int backfillPending, Counters counters) {

    /** Fires that started a run, were skipped (overlap, buffer full, paused), and were missed (older than the window). */
    public record Counters(long fired, long skipped, long missed) {
    }
}
