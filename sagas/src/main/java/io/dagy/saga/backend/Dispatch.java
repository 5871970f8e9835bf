package io.dagy.saga.backend;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.TaskRunId;

import java.util.Map;

/**
 * One attempt handed to a backend. {@code dispatchId} (run/task/attempt) is the backend's idempotency token: the same
 * dispatch id twice is one execution. {@code org} owns the run: a worker of another organization never sees it.
 */
public record Dispatch(String dispatchId, OrgId org, TaskRunId taskRunId, int attempt, Dag.Task spec,
                       Map<String, Object> params) {

    public Dispatch {
        org = org == null ? OrgId.DEFAULT : org;
        params = params == null ? Map.of() : Map.copyOf(params);
    }
}
