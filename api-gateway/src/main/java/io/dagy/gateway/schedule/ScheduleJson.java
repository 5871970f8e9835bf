package io.dagy.gateway.schedule;

import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.schedule.OverlapPolicy;
import io.dagy.contracts.schedule.ScheduleQueries;
import io.dagy.contracts.schedule.ScheduleSpec;
import io.dagy.contracts.schedule.ScheduleView;
import io.dagy.contracts.run.RunId;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The JSON shapes of the schedule API (snake_case on the wire) and their mapping to contracts. */
final class ScheduleJson {

    private ScheduleJson() {
    }

    /** A schedule as a client writes it. Durations and instants are ISO-8601 text, parsed here so every error is listed. */
    record ScheduleRequest(String cron, String interval, String offset, String timezone, String startAt, String endAt,
                           String jitter, String overlap, String catchupWindow, Map<String, Object> params) {

        ScheduleSpec toSpec(List<FieldError> errors) {
            return new ScheduleSpec(cron,
                    parse("interval", interval, Duration::parse, "an ISO-8601 duration such as PT15M", Duration.ofMinutes(1), errors),
                    parse("offset", offset, Duration::parse, "an ISO-8601 duration such as PT5M", null, errors),
                    timezone,
                    parse("start_at", startAt, ScheduleJson::instant, "an ISO-8601 instant with an offset", null, errors),
                    parse("end_at", endAt, ScheduleJson::instant, "an ISO-8601 instant with an offset", null, errors),
                    parse("jitter", jitter, Duration::parse, "an ISO-8601 duration such as PT30S", null, errors),
                    ScheduleJson.overlap(overlap, "overlap", errors),
                    parse("catchup_window", catchupWindow, Duration::parse, "an ISO-8601 duration such as PT1H", null, errors));
        }
    }

    record PauseRequest(String note) {
    }

    record BackfillRequest(String from, String to, String overlap) {
    }

    record TriggerResponse(String outcome, String runId, String fireTime) {
    }

    record BackfillResponse(int fireTimes) {
    }

    record ScheduleResponse(String scheduleId, String deployment, String cron, String interval, String offset,
                            String timezone, String startAt, String endAt, String jitter, String overlap,
                            String catchupWindow, Map<String, Object> params, String state, String note,
                            String lastFireTime, List<String> nextFireTimes, List<String> runningRuns, int bufferedFires,
                            int backfillPending, ScheduleView.Counters counters) {

        static ScheduleResponse of(ScheduleView view) {
            ScheduleSpec spec = view.spec();
            ZoneId zone = ZoneId.of(spec.timezone());
            return new ScheduleResponse(view.scheduleId().id(), view.scheduleId().deployment().value(), spec.cron(),
                    text(spec.interval()), spec.interval() == null ? null : text(spec.offset()), spec.timezone(),
                    at(spec.startAt(), zone), at(spec.endAt(), zone), text(spec.jitter()), spec.overlap().wire(),
                    text(spec.catchupWindow()), view.params(), view.state(), view.note(), at(view.lastFireTime(), zone),
                    view.nextFireTimes().stream().map(fire -> at(fire, zone)).toList(),
                    view.runningRuns().stream().map(RunId::value).toList(), view.bufferedFires(), view.backfillPending(),
                    view.counters());
        }
    }

    record ScheduleListResponse(List<ScheduleSummaryResponse> items) {
    }

    record ScheduleSummaryResponse(String scheduleId, String cron, String interval, String timezone, String overlap,
                                   String state, String note) {
        static ScheduleSummaryResponse of(ScheduleQueries.ScheduleSummary summary) {
            ScheduleSpec spec = summary.spec();
            return new ScheduleSummaryResponse(summary.scheduleId().id(), spec.cron(), text(spec.interval()),
                    spec.timezone(), spec.overlap().wire(), summary.state(), summary.note());
        }
    }

    /** An instant as ISO-8601 with the offset of the schedule's zone at that instant. */
    static String at(Instant instant, ZoneId zone) {
        return instant == null ? null : DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(instant.atZone(zone));
    }

    private static String text(Duration duration) {
        return duration == null ? null : duration.toString();
    }

    static Instant instant(String text) {
        return OffsetDateTime.parse(text).toInstant();
    }

    static OverlapPolicy overlap(String wire, String field, List<FieldError> errors) {
        if (wire == null) {
            return null;
        }
        return OverlapPolicy.fromWire(wire).orElseGet(() -> {
            errors.add(new FieldError(field, "one of " + Arrays.stream(OverlapPolicy.values()).map(OverlapPolicy::wire).toList()));
            return null;
        });
    }

    /** The value, or (listing the error) {@code fallback}, which keeps the other checks meaningful. */
    static <T> T parse(String field, String text, Function<String, T> parser, String expected, T fallback,
                       List<FieldError> errors) {
        if (text == null) {
            return null;
        }
        try {
            return parser.apply(text);
        } catch (DateTimeParseException | ArithmeticException invalid) {
            errors.add(new FieldError(field, "not " + expected + ": " + (text.length() > 64 ? text.substring(0, 64) + "…" : text)));
            return fallback;
        }
    }
}
