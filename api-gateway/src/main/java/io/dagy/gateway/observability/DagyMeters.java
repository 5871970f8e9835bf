package io.dagy.gateway.observability;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.run.RunQueries.RunView;
import io.dagy.query.run.RunObserver;
import io.dagy.saga.task.TaskObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;

import java.time.Duration;

/**
 * Dagy's meters of runs and task attempts (docs/operations.md, "Metrics"). Runs are counted by the run view as it
 * records them, attempts by their task execution saga: each event once across all nodes (on the node that holds its
 * segment), from state those handlers already read, so no meter costs a DynamoDB request. A meter moves only once the
 * handler's unit of work commits, so a retried batch is not counted twice; a node that dies between its commit and
 * the count loses that count (the meters may miss a little, they never count twice).
 */
final class DagyMeters implements RunObserver, TaskObserver {

    static final String RUNS_STARTED = "dagy.runs.started";
    static final String RUNS_FINISHED = "dagy.runs.finished";
    static final String RUN_DURATION = "dagy.run.duration";
    static final String ATTEMPT_DURATION = "dagy.task.attempt.duration";
    static final String DISPATCH_TO_START = "dagy.task.dispatch.to.start";
    static final String RETRIES = "dagy.task.retries";
    static final String TIMEOUTS = "dagy.task.timeouts";

    /** Histogram buckets: a few fixed ones rather than Micrometer's ~70 per series, as deployments multiply series. */
    private static final Duration[] RUN_BUCKETS = durations("1s", "5s", "30s", "1m", "5m", "15m", "1h", "6h", "24h");
    private static final Duration[] ATTEMPT_BUCKETS = durations("100ms", "1s", "5s", "30s", "1m", "5m", "30m", "1h", "6h");
    private static final Duration[] LATENCY_BUCKETS = durations("10ms", "50ms", "100ms", "500ms", "1s", "5s", "30s", "1m", "5m");

    private final MeterRegistry registry;

    DagyMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void runStarted(RunView run) {
        Counter counter = Counter.builder(RUNS_STARTED).description("Runs started")
                .tag("org", run.organization().value()).tag("deployment", run.deployment().value())
                .register(registry);
        afterCommit(counter::increment);
    }

    @Override
    public void runFinished(RunView run) {
        String org = run.organization().value();
        String deployment = run.deployment().value();
        String status = run.status().name();
        Counter counter = Counter.builder(RUNS_FINISHED).description("Runs finished, by final status")
                .tag("org", org).tag("deployment", deployment).tag("status", status).register(registry);
        Timer timer = Timer.builder(RUN_DURATION).description("From a run's start to its end")
                .tag("org", org).tag("deployment", deployment).tag("status", status)
                .serviceLevelObjectives(RUN_BUCKETS).register(registry);
        Duration took = run.endedAt() == null ? null : Duration.between(run.startedAt(), run.endedAt());
        afterCommit(() -> {
            counter.increment();
            if (took != null && !took.isNegative()) {
                timer.record(took);
            }
        });
    }

    @Override
    public void attemptStarted(BackendType backend, Duration sinceDispatch) {
        Timer timer = Timer.builder(DISPATCH_TO_START).description("From an attempt's dispatch to its start")
                .tag("backend", backend.wire()).serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        afterCommit(() -> timer.record(positive(sinceDispatch)));
    }

    @Override
    public void attemptEnded(BackendType backend, String outcome, Duration ran) {
        Timer timer = Timer.builder(ATTEMPT_DURATION).description("From an attempt's start to its end")
                .tag("backend", backend.wire()).tag("outcome", outcome)
                .serviceLevelObjectives(ATTEMPT_BUCKETS).register(registry);
        afterCommit(() -> timer.record(positive(ran)));
    }

    @Override
    public void retryScheduled(BackendType backend, String errorKind) {
        Counter counter = Counter.builder(RETRIES).description("Failed attempts followed by another attempt")
                .tag("backend", backend.wire()).tag("error_kind", errorKind == null ? "unknown" : errorKind)
                .register(registry);
        afterCommit(counter::increment);
    }

    @Override
    public void timedOut(BackendType backend, String timeout) {
        Counter counter = Counter.builder(TIMEOUTS).description("Attempts that timed out, by timeout")
                .tag("backend", backend.wire()).tag("timeout", timeout).register(registry);
        afterCommit(counter::increment);
    }

    /** Runs {@code count} when the current unit of work commits (at once outside one). */
    static void afterCommit(Runnable count) {
        if (CurrentUnitOfWork.isStarted()) {
            CurrentUnitOfWork.get().afterCommit(unitOfWork -> count.run());
        } else {
            count.run();
        }
    }

    /** Event times of two nodes whose clocks disagree can put an end before its start: count it as zero. */
    private static Duration positive(Duration duration) {
        return duration.isNegative() ? Duration.ZERO : duration;
    }

    private static Duration[] durations(String... values) {
        Duration[] result = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = org.springframework.boot.convert.DurationStyle.SIMPLE.parse(values[i]);
        }
        return result;
    }
}
