package io.dagy.saga.backend;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.run.TaskRunId;

import java.util.Map;

/**
 * One attempt handed to a backend. {@code dispatchId} (run/task/attempt) is the backend's idempotency token: the same
 * dispatch id twice is one execution.
 */
public record Dispatch(String dispatchId, TaskRunId taskRunId, int attempt, Dag.Task spec, Map<String, Object> params) {

    public Dispatch {
        params = params == null ? Map.of() : Map.copyOf(params);
    }
}
