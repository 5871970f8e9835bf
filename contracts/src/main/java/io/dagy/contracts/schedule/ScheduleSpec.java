package io.dagy.contracts.schedule;

import java.time.Duration;
import java.time.Instant;

/**
 * When a schedule fires. Exactly one of {@code cron} (5 fields or a macro such as {@code @hourly}, read in
 * {@code timezone}) and {@code interval} (fixed, in absolute time, shifted by {@code offset} from the Unix epoch).
 * {@code startAt} and {@code endAt} bound the fire times (both inclusive); {@code jitter} delays each fire by a
 * deterministic amount below it; {@code catchupWindow} is how late a fire may still run. Validated by the command side
 * (docs/schedules.md); this record only holds the values.
 */
public record ScheduleSpec(String cron, Duration interval, Duration offset, String timezone, Instant startAt,
                           Instant endAt, Duration jitter, OverlapPolicy overlap, Duration catchupWindow) {

    public static final String UTC = "UTC";
    public static final Duration DEFAULT_CATCHUP_WINDOW = Duration.ofHours(1);

    public ScheduleSpec {
        offset = offset == null ? Duration.ZERO : offset;
        timezone = timezone == null ? UTC : timezone;
        jitter = jitter == null ? Duration.ZERO : jitter;
        overlap = overlap == null ? OverlapPolicy.SKIP : overlap;
        catchupWindow = catchupWindow == null ? DEFAULT_CATCHUP_WINDOW : catchupWindow;
    }

    public static ScheduleSpec cron(String cron, String timezone) {
        return new ScheduleSpec(cron, null, null, timezone, null, null, null, null, null);
    }

    public static ScheduleSpec every(Duration interval) {
        return new ScheduleSpec(null, interval, null, null, null, null, null, null, null);
    }

    public ScheduleSpec withOverlap(OverlapPolicy policy) {
        return new ScheduleSpec(cron, interval, offset, timezone, startAt, endAt, jitter, policy, catchupWindow);
    }

    public ScheduleSpec withBounds(Instant start, Instant end) {
        return new ScheduleSpec(cron, interval, offset, timezone, start, end, jitter, overlap, catchupWindow);
    }

    public ScheduleSpec withJitter(Duration value) {
        return new ScheduleSpec(cron, interval, offset, timezone, startAt, endAt, value, overlap, catchupWindow);
    }

    public ScheduleSpec withCatchupWindow(Duration value) {
        return new ScheduleSpec(cron, interval, offset, timezone, startAt, endAt, jitter, overlap, value);
    }
}
