package io.dagy.gateway.usage;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.Caller;
import io.dagy.projection.usage.UsageAggregates;
import io.dagy.projection.usage.UsageAggregates.Granularity;
import io.dagy.projection.usage.UsageProjection;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** The caller's organization's usage per hour, day or month (docs/usage.md), for the UI and for billing. */
@RestController
class UsageController {

    /** At most this many periods in one answer (a month of hours is 744). */
    static final int MAX_PERIODS = 800;

    private final UsageAggregates aggregates;
    private final ApiCallMeter apiCalls;

    UsageController(UsageAggregates aggregates, ApiCallMeter apiCalls) {
        this.aggregates = aggregates;
        this.apiCalls = apiCalls;
    }

    record Runtime(String tier, String backend, long taskAttempts, BigDecimal billableSeconds) {
    }

    record Usage(String period, long runsStarted, long taskAttempts, BigDecimal billableSeconds, long apiCalls,
                 List<Runtime> byRuntime) {
    }

    record UsageResponse(String granularity, Instant from, Instant to, List<Usage> items, Usage totals) {
    }

    /**
     * Usage from {@code from} to {@code to} (ISO-8601 instants; default: the last 30 days) per {@code granularity}
     * ({@code hour}, {@code day} (default) or {@code month}); a period is listed when it holds any usage. Periods are
     * UTC and include the ones {@code from} and {@code to} fall in.
     */
    @GetMapping("/v1/usage")
    UsageResponse usage(Caller caller, @RequestParam(required = false) String from, @RequestParam(required = false) String to,
                        @RequestParam(defaultValue = "day") String granularity) {
        List<FieldError> errors = new ArrayList<>();
        Instant until = to == null ? Instant.now() : instant("to", to, errors);
        Instant since = from == null ? (until == null ? Instant.now() : until).minus(Duration.ofDays(30)) : instant("from", from, errors);
        Granularity per = null;
        try {
            per = Granularity.valueOf(granularity.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException unknown) {
            errors.add(new FieldError("granularity", "one of hour, day, month"));
        }
        if (since != null && until != null && since.isAfter(until)) {
            errors.add(new FieldError("from", "must not be after to"));
        }
        if (errors.isEmpty() && per == Granularity.HOUR && Duration.between(since, until).toHours() >= MAX_PERIODS) {
            errors.add(new FieldError("from", "at most " + MAX_PERIODS + " hours per request"));
        }
        if (!errors.isEmpty()) {
            throw ProblemException.of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The query is invalid.", errors));
        }
        String org = caller.org().value();
        Map<String, Map<String, Long>> periods = new TreeMap<>();
        aggregates.periods(org, per, since, until).forEach(period -> periods.put(period.period(), new TreeMap<>(period.totals())));
        apiCalls.periods(org, per, since, until).forEach((period, calls) ->
                periods.computeIfAbsent(period, p -> new TreeMap<>()).put(ApiCallMeter.METRIC, calls));
        Map<String, Long> sum = new TreeMap<>();
        List<Usage> items = new ArrayList<>();
        periods.forEach((period, totals) -> {
            totals.forEach((metric, value) -> sum.merge(metric, value, Long::sum));
            items.add(usage(period, totals));
        });
        return new UsageResponse(per.code(), since, until, items, usage(null, sum));
    }

    private static Usage usage(String period, Map<String, Long> totals) {
        TreeSet<String> runtimes = new TreeSet<>();
        totals.keySet().stream().filter(metric -> metric.startsWith("task_attempts:"))
                .forEach(metric -> runtimes.add(metric.substring("task_attempts:".length())));
        List<Runtime> byRuntime = new ArrayList<>();
        long attempts = 0;
        long billableMs = 0;
        for (String runtime : runtimes) {
            String[] parts = runtime.split(":", 2);
            long count = totals.getOrDefault(UsageProjection.attemptsMetric(parts[0], parts[1]), 0L);
            long ms = totals.getOrDefault(UsageProjection.billableMetric(parts[0], parts[1]), 0L);
            attempts += count;
            billableMs += ms;
            byRuntime.add(new Runtime(parts[0], parts[1], count, seconds(ms)));
        }
        return new Usage(period, totals.getOrDefault(UsageProjection.RUNS_STARTED, 0L), attempts, seconds(billableMs),
                totals.getOrDefault(ApiCallMeter.METRIC, 0L), byRuntime);
    }

    private static BigDecimal seconds(long ms) {
        return BigDecimal.valueOf(ms, 3);
    }

    private static Instant instant(String field, String value, List<FieldError> errors) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException invalid) {
            errors.add(new FieldError(field, "an ISO-8601 instant, e.g. 2026-11-30T00:00:00Z"));
            return null;
        }
    }
}
