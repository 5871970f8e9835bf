package io.dagy.contracts.deployment;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A DAG as a client sent it: nothing checked yet, durations still ISO-8601 text, so that validation can report every
 * problem at once instead of failing on the first unreadable value. {@code DagValidator} turns it into a {@link Dag}.
 */
public record DagDraft(String description, List<TaskDraft> tasks) {

    /** Null entries are kept (not refused here), so that validation can name them: {@code tasks[3]}. */
    public DagDraft {
        tasks = tasks == null ? null : Collections.unmodifiableList(new ArrayList<>(tasks));
    }

    public record TaskDraft(String id, BackendDraft backend, List<String> dependsOn, String triggerRule,
                            RetryDraft retry, TimeoutsDraft timeouts, Map<String, Object> params) {
    }

    /** The backend type and its settings, e.g. {@code {"type": "local", "command": ["echo", "hi"]}}. */
    public record BackendDraft(String type, Map<String, Object> config) {
    }

    public record RetryDraft(Integer maxAttempts, String initialInterval, Double backoffRate, String maxDelay,
                             Boolean jitter, List<String> retryOn) {
    }

    public record TimeoutsDraft(String scheduleToStart, String startToClose, String heartbeat) {
    }
}
