package io.dagy.contracts.deployment;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A validated DAG: unique task ids, known dependencies, no cycle, known backends and trigger rules, retry values in
 * range. Tasks are in the order the client gave them.
 */
public record Dag(String description, List<Task> tasks) {

    public Dag {
        tasks = List.copyOf(tasks);
    }

    public record Task(String id, Backend backend, List<String> dependsOn, TriggerRule triggerRule, RetryPolicy retry,
                       Timeouts timeouts, Map<String, Object> params) {

        private static final Pattern VALID_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

        /** Whether {@code id} can be a task id: 1-128 of letters, digits, '_', '.', '-', starting with a letter or digit. */
        public static boolean isValidId(String id) {
            return id != null && VALID_ID.matcher(id).matches();
        }

        public Task {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(backend, "backend");
            dependsOn = List.copyOf(dependsOn);
            Objects.requireNonNull(triggerRule, "triggerRule");
            Objects.requireNonNull(retry, "retry");
            Objects.requireNonNull(timeouts, "timeouts");
            params = params == null ? Map.of() : Map.copyOf(params);
        }
    }

    /** Where a task runs; {@code config} is the backend's own settings. */
    public record Backend(BackendType type, Map<String, Object> config) {
        public Backend {
            Objects.requireNonNull(type, "type");
            config = config == null ? Map.of() : Map.copyOf(config);
        }
    }

    /**
     * How a failed attempt is retried: delay before attempt n+1 is {@code min(maxDelay, initialInterval * backoffRate^(n-1))},
     * drawn uniformly from [0, delay] with full jitter; only errors whose kind is in {@code retryOn} (or {@code *})
     * are retried.
     */
    public record RetryPolicy(int maxAttempts, Duration initialInterval, double backoffRate, Duration maxDelay,
                              boolean jitter, List<String> retryOn) {
        public RetryPolicy {
            retryOn = List.copyOf(retryOn);
        }

        public static RetryPolicy none() {
            return new RetryPolicy(1, Duration.ofSeconds(1), 2.0, Duration.ofMinutes(5), true, List.of("*"));
        }
    }

    /** Absent timeouts are unlimited. */
    public record Timeouts(Duration scheduleToStart, Duration startToClose, Duration heartbeat) {
    }
}
