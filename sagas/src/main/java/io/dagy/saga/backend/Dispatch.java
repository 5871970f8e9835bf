package io.dagy.saga.backend;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.TaskRunId;

import java.util.Map;

/**
 * One attempt handed to a backend. {@code dispatchId} (run/task/attempt) is the backend's idempotency token: the same
 * dispatch id twice is one execution. {@code org} owns the run: a worker of another organization never sees it.
 * {@code traceparent} is the W3C trace context of the dispatch (the dispatched event's, from its metadata), or null
 * when tracing is off: backends that run work elsewhere hand it on, so the work joins the run's trace.
 */
public record Dispatch(String dispatchId, OrgId org, TaskRunId taskRunId, int attempt, Dag.Task spec,
                       Map<String, Object> params, String traceparent) {

    /** The metadata key under which Axon's tracing carries the W3C trace context of a message. */
    public static final String TRACEPARENT = "traceparent";

    public Dispatch {
        org = org == null ? OrgId.DEFAULT : org;
        params = params == null ? Map.of() : Map.copyOf(params);
    }

    public Dispatch(String dispatchId, OrgId org, TaskRunId taskRunId, int attempt, Dag.Task spec,
                    Map<String, Object> params) {
        this(dispatchId, org, taskRunId, attempt, spec, params, null);
    }
}
