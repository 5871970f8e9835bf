package io.dagy.command.schedule;

import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.schedule.ScheduleSpec;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a schedule may be (docs/schedules.md). Every error is listed, each naming its field as the API spells it, so
 * one 400 answer tells a client everything wrong with its spec.
 */
public final class ScheduleRules {

    /** The shortest interval: cron's own granularity; shorter work belongs in one run, not in a run per second. */
    public static final Duration MIN_INTERVAL = Duration.ofMinutes(1);
    /** The longest jitter. */
    public static final Duration MAX_JITTER = Duration.ofHours(1);
    /** The shortest catch-up window: a fire is always a little late (the deadline poll, a busy node). */
    public static final Duration MIN_CATCHUP_WINDOW = Duration.ofSeconds(10);
    public static final Duration MAX_CATCHUP_WINDOW = Duration.ofDays(366);
    /** Params every scheduled run gets from Dagy; a schedule's own params may not hold them. */
    public static final String FIRE_TIME_PARAM = "fire_time";
    public static final String SCHEDULE_ID_PARAM = "schedule_id";
    private static final Set<String> RESERVED_PARAMS = Set.of(FIRE_TIME_PARAM, SCHEDULE_ID_PARAM);
    /** Fire times the jitter check looks at for a cron spec (their shortest gap bounds the jitter). */
    private static final int GAP_SAMPLE = 200;
    private static final Instant GAP_SAMPLE_FROM = Instant.parse("2026-01-01T00:00:00Z");

    private ScheduleRules() {
    }

    public static List<FieldError> validate(ScheduleSpec spec, Map<String, Object> params) {
        List<FieldError> errors = new ArrayList<>();
        boolean cronGiven = spec.cron() != null;
        boolean intervalGiven = spec.interval() != null;
        boolean specValid = true;
        if (cronGiven == intervalGiven) {
            errors.add(new FieldError(cronGiven ? "interval" : "cron", "give exactly one of cron and interval"));
            specValid = false;
        }
        if (cronGiven) {
            try {
                ScheduleCalendar.parse(spec.cron());
            } catch (IllegalArgumentException invalid) {
                errors.add(new FieldError("cron", "not a cron expression of 5 fields or a macro: " + invalid.getMessage()));
                specValid = false;
            }
        }
        if (intervalGiven && spec.interval().compareTo(MIN_INTERVAL) < 0) {
            errors.add(new FieldError("interval", "must be at least " + MIN_INTERVAL));
            specValid = false;
        }
        if (!spec.offset().isZero()) {
            if (!intervalGiven) {
                errors.add(new FieldError("offset", "only an interval takes an offset"));
            } else if (spec.offset().isNegative() || spec.offset().compareTo(spec.interval()) >= 0) {
                errors.add(new FieldError("offset", "must be at least 0 and shorter than the interval"));
                specValid = false;
            }
        }
        if (!ZoneId.getAvailableZoneIds().contains(spec.timezone())) {
            errors.add(new FieldError("timezone", "not an IANA time zone (such as UTC or Europe/Berlin): " + spec.timezone()));
            specValid = false;
        }
        if (spec.startAt() != null && spec.endAt() != null && !spec.endAt().isAfter(spec.startAt())) {
            errors.add(new FieldError("end_at", "must be after start_at"));
        }
        if (spec.jitter().isNegative() || spec.jitter().compareTo(MAX_JITTER) > 0) {
            errors.add(new FieldError("jitter", "must be between PT0S and " + MAX_JITTER));
        } else if (specValid && !spec.jitter().isZero() && spec.jitter().compareTo(shortestGap(spec)) >= 0) {
            errors.add(new FieldError("jitter", "must be shorter than the time between two fires ("
                    + shortestGap(spec) + ")"));
        }
        if (spec.catchupWindow().compareTo(MIN_CATCHUP_WINDOW) < 0 || spec.catchupWindow().compareTo(MAX_CATCHUP_WINDOW) > 0) {
            errors.add(new FieldError("catchup_window", "must be between " + MIN_CATCHUP_WINDOW + " and " + MAX_CATCHUP_WINDOW));
        }
        params.forEach((key, value) -> {
            if (value == null) {
                errors.add(new FieldError("params." + shortened(key), "must not be null (leave the key out instead)"));
            } else if (RESERVED_PARAMS.contains(key)) {
                errors.add(new FieldError("params." + key, "is set by Dagy on every scheduled run"));
            }
        });
        return errors;
    }

    /** The shortest time between two fires: the interval, or the least gap among a sample of the cron's fires. */
    private static Duration shortestGap(ScheduleSpec spec) {
        if (spec.interval() != null) {
            return spec.interval();
        }
        ScheduleSpec unbounded = new ScheduleSpec(spec.cron(), null, null, spec.timezone(), null, null, null, null, null);
        List<Instant> fires = ScheduleCalendar.of(unbounded).upcoming(GAP_SAMPLE_FROM, GAP_SAMPLE);
        Duration shortest = Duration.ofDays(366);
        for (int i = 1; i < fires.size(); i++) {
            Duration gap = Duration.between(fires.get(i - 1), fires.get(i));
            if (gap.compareTo(shortest) < 0) {
                shortest = gap;
            }
        }
        return shortest;
    }

    private static String shortened(String key) {
        return key.length() <= 64 ? key : key.substring(0, 64) + "…";
    }
}
