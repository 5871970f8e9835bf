package io.dagy.command.deployment;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DagDraft;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.run.WorkerQueue;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a {@link DagDraft} and reports every problem at once: duplicate task ids, unknown dependencies, cycles (naming
 * the tasks in the cycle), unknown backends and trigger rules, unreadable durations and retry values out of range.
 * A draft comes straight from a client, so any part of it may be null or absurd; every such case is a field error,
 * never an exception.
 */
final class DagValidator {

    /** A secret's name, as {@code /v1/secrets} accepts it. */
    private static final java.util.regex.Pattern SECRET_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    static final int MAX_TASKS = 10_000;
    static final int MAX_ATTEMPTS = 100;
    private static final Duration DEFAULT_INITIAL_INTERVAL = Duration.ofSeconds(1);
    private static final Duration DEFAULT_MAX_DELAY = Duration.ofMinutes(5);

    private final List<FieldError> errors = new ArrayList<>();

    private DagValidator() {
    }

    /** The validated DAG, or the complete list of what is wrong with it. */
    static Result validate(DagDraft draft) {
        return new DagValidator().check(draft);
    }

    sealed interface Result {
    }

    record Valid(Dag dag) implements Result {
    }

    record Invalid(List<FieldError> errors) implements Result {
        BusinessError asError() {
            return new BusinessError(io.dagy.contracts.ErrorCode.VALIDATION_FAILED,
                    "The DAG is invalid: " + errors.size() + (errors.size() == 1 ? " problem." : " problems."), errors);
        }
    }

    private Result check(DagDraft draft) {
        if (draft == null || draft.tasks() == null || draft.tasks().isEmpty()) {
            return new Invalid(List.of(new FieldError("tasks", "a DAG needs at least one task")));
        }
        if (draft.tasks().size() > MAX_TASKS) {
            return new Invalid(List.of(new FieldError("tasks", "at most " + MAX_TASKS + " tasks per DAG")));
        }
        Map<String, Integer> indexById = new HashMap<>();
        for (int i = 0; i < draft.tasks().size(); i++) {
            DagDraft.TaskDraft task = draft.tasks().get(i);
            String path = "tasks[" + i + "]";
            if (task == null) {
                error(path, "must be a task object, not null");
            } else if (task.id() == null || task.id().isBlank()) {
                error(path + ".id", "is required");
            } else if (!Dag.Task.isValidId(task.id())) {
                error(path + ".id", "must be 1-128 of letters, digits, '_', '.', '-': " + quoted(task.id()));
            } else if (indexById.putIfAbsent(task.id(), i) != null) {
                error(path + ".id", "duplicate task id '" + task.id() + "' (also tasks[" + indexById.get(task.id()) + "])");
            }
        }
        List<Dag.Task> tasks = new ArrayList<>();
        for (int i = 0; i < draft.tasks().size(); i++) {
            DagDraft.TaskDraft task = draft.tasks().get(i);
            if (task != null) {
                tasks.add(task(task, "tasks[" + i + "]", indexById));
            }
        }
        if (errors.isEmpty()) {
            findCycle(tasks).ifPresent(cycle -> error("tasks",
                    "dependencies form a cycle: " + String.join(" -> ", cycle)));
        }
        return errors.isEmpty() ? new Valid(new Dag(draft.description(), tasks)) : new Invalid(List.copyOf(errors));
    }

    private Dag.Task task(DagDraft.TaskDraft task, String path, Map<String, Integer> indexById) {
        Dag.Backend backend = backend(task.backend(), path + ".backend");
        List<String> dependsOn = task.dependsOn() == null ? List.of() : task.dependsOn();
        Set<String> seen = new HashSet<>();
        for (int d = 0; d < dependsOn.size(); d++) {
            String dependency = dependsOn.get(d);
            String field = path + ".depends_on[" + d + "]";
            if (dependency == null || !indexById.containsKey(dependency)) {
                error(field, "unknown task " + quoted(dependency));
            } else if (dependency.equals(task.id())) {
                error(field, "a task cannot depend on itself");
            } else if (!seen.add(dependency)) {
                error(field, quoted(dependency) + " is listed twice");
            }
        }
        TriggerRule rule = TriggerRule.ALL_SUCCESS;
        if (task.triggerRule() != null) {
            Optional<TriggerRule> known = TriggerRule.fromWire(task.triggerRule());
            if (known.isEmpty()) {
                error(path + ".trigger_rule", "unknown trigger rule " + quoted(task.triggerRule()));
            } else {
                rule = known.get();
            }
        }
        Map<String, Object> params = withoutNullValues(task.params(), path + ".params");
        return new Dag.Task(task.id() == null ? "" : task.id(),
                backend == null ? new Dag.Backend(BackendType.NOOP, Map.of()) : backend,
                dependsOn.stream().filter(dep -> dep != null).toList(), rule, retry(task.retry(), path + ".retry"),
                timeouts(task.timeouts(), path + ".timeouts"), params);
    }

    /**
     * The map without its null values, each reported as an error: a JSON {@code null} in params or backend settings
     * means nothing a task could use, and the DAG stores maps that refuse null values.
     */
    private Map<String, Object> withoutNullValues(Map<String, Object> map, String path) {
        if (map == null) {
            return null;
        }
        Map<String, Object> kept = new LinkedHashMap<>();
        map.forEach((key, value) -> {
            if (value == null) {
                error(path + "." + (key.length() <= 64 ? key : key.substring(0, 64) + "…"),
                        "must not be null (leave the key out instead)");
            } else {
                kept.put(key, value);
            }
        });
        return kept;
    }

    private Dag.Backend backend(DagDraft.BackendDraft backend, String path) {
        if (backend == null || backend.type() == null) {
            error(path + ".type", "is required");
            return null;
        }
        Optional<BackendType> type = BackendType.fromWire(backend.type());
        if (type.isEmpty()) {
            error(path + ".type", "unknown backend type " + quoted(backend.type()));
            return null;
        }
        Map<String, Object> config = backend.config() == null ? Map.of() : withoutNullValues(backend.config(), path);
        switch (type.get()) {
            case LOCAL -> {
                if (!(config.get("command") instanceof List<?> command) || command.isEmpty()
                        || !command.stream().allMatch(String.class::isInstance)) {
                    error(path + ".command", "a local task needs a non-empty list of strings");
                }
            }
            case WORKER -> {
                requireText(config, "queue", path);
                if (config.get("queue") instanceof String queue && !queue.isBlank() && !WorkerQueue.isValid(queue)) {
                    error(path + ".queue", "must be 1-128 of letters, digits, '_', '.', ':', '-', starting with a "
                            + "letter or digit");
                }
            }
            case LAMBDA -> {
                // without a function of its own a task invokes the installation's DAGY_FLOW_EXECUTOR_FUNCTION
                if (config.containsKey("function")) {
                    requireText(config, "function", path);
                }
            }
            case STEP_FUNCTIONS -> requireText(config, "state_machine_arn", path);
            case ECS -> requireText(config, "task_definition", path);
            case NOOP -> {
                // nothing to configure
            }
        }
        if (config.containsKey("secrets") && !(config.get("secrets") instanceof List<?> secrets
                && secrets.stream().allMatch(name -> name instanceof String text && SECRET_NAME.matcher(text).matches()))) {
            error(path + ".secrets", "a list of secret names (1-128 of letters, digits, '_', '.', '-', starting with a "
                    + "letter or digit)");
        }
        return new Dag.Backend(type.get(), config);
    }

    private void requireText(Map<String, Object> config, String key, String path) {
        if (!(config.get(key) instanceof String value) || value.isBlank()) {
            error(path + "." + key, "is required");
        }
    }

    private Dag.RetryPolicy retry(DagDraft.RetryDraft retry, String path) {
        if (retry == null) {
            return Dag.RetryPolicy.none();
        }
        int maxAttempts = retry.maxAttempts() == null ? 1 : retry.maxAttempts();
        if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) {
            error(path + ".max_attempts", "must be between 1 and " + MAX_ATTEMPTS);
        }
        Duration initial = duration(retry.initialInterval(), path + ".initial_interval", DEFAULT_INITIAL_INTERVAL, true);
        double backoffRate = retry.backoffRate() == null ? 2.0 : retry.backoffRate();
        if (backoffRate < 1.0 || backoffRate > 10.0 || Double.isNaN(backoffRate)) {
            error(path + ".backoff_rate", "must be between 1.0 and 10.0");
        }
        Duration maxDelay = duration(retry.maxDelay(), path + ".max_delay", DEFAULT_MAX_DELAY, false);
        if (initial != null && maxDelay != null && maxDelay.compareTo(initial) < 0) {
            error(path + ".max_delay", "must not be shorter than initial_interval");
        }
        List<String> retryOn = retry.retryOn() == null ? List.of("*") : retry.retryOn();
        if (retryOn.isEmpty() || retryOn.stream().anyMatch(kind -> kind == null || kind.isBlank())) {
            error(path + ".retry_on", "must list error kinds (or \"*\")");
        }
        return new Dag.RetryPolicy(maxAttempts, initial == null ? DEFAULT_INITIAL_INTERVAL : initial, backoffRate,
                maxDelay == null ? DEFAULT_MAX_DELAY : maxDelay, retry.jitter() == null || retry.jitter(),
                retryOn.stream().filter(kind -> kind != null).toList());
    }

    private Dag.Timeouts timeouts(DagDraft.TimeoutsDraft timeouts, String path) {
        if (timeouts == null) {
            return new Dag.Timeouts(null, null, null);
        }
        return new Dag.Timeouts(duration(timeouts.scheduleToStart(), path + ".schedule_to_start", null, false),
                duration(timeouts.startToClose(), path + ".start_to_close", null, false),
                duration(timeouts.heartbeat(), path + ".heartbeat", null, false));
    }

    /** An ISO-8601 duration (PT30S), positive (or zero when allowed); {@code fallback} when absent. */
    private Duration duration(String text, String field, Duration fallback, boolean zeroAllowed) {
        if (text == null) {
            return fallback;
        }
        try {
            Duration duration = Duration.parse(text);
            if (duration.isNegative() || (!zeroAllowed && duration.isZero())) {
                error(field, "must be " + (zeroAllowed ? "zero or positive" : "positive") + ": " + quoted(text));
                return null;
            }
            return duration;
        } catch (DateTimeParseException e) {
            error(field, "is not an ISO-8601 duration such as PT30S or PT5M: " + quoted(text));
            return null;
        }
    }

    /** A cycle among the tasks, as the ids along it with the first repeated at the end, if there is one. */
    private static Optional<List<String>> findCycle(List<Dag.Task> tasks) {
        Map<String, List<String>> upstream = new LinkedHashMap<>();
        tasks.forEach(task -> upstream.put(task.id(), task.dependsOn()));
        Map<String, Integer> state = new HashMap<>(); // 1 = on the current path, 2 = done
        for (String start : upstream.keySet()) {
            if (state.containsKey(start)) {
                continue;
            }
            Deque<String> path = new ArrayDeque<>();
            Deque<java.util.Iterator<String>> next = new ArrayDeque<>();
            path.push(start);
            next.push(upstream.get(start).iterator());
            state.put(start, 1);
            while (!path.isEmpty()) {
                if (next.peek().hasNext()) {
                    String dependency = next.peek().next();
                    Integer seen = state.get(dependency);
                    if (seen == null) {
                        state.put(dependency, 1);
                        path.push(dependency);
                        next.push(upstream.get(dependency).iterator());
                    } else if (seen == 1) {
                        List<String> onPath = new ArrayList<>(path);
                        List<String> cycle = new ArrayList<>(onPath.subList(0, onPath.indexOf(dependency) + 1));
                        java.util.Collections.reverse(cycle);
                        cycle.add(cycle.get(0));
                        return Optional.of(cycle);
                    }
                } else {
                    state.put(path.pop(), 2);
                    next.pop();
                }
            }
        }
        return Optional.empty();
    }

    /** A client's value in a message, cut short: an error list must not echo a megabyte back. */
    private static String quoted(String value) {
        if (value == null) {
            return "null";
        }
        return "'" + (value.length() <= 64 ? value : value.substring(0, 64) + "…") + "'";
    }

    private void error(String field, String message) {
        errors.add(new FieldError(field, message));
    }
}
