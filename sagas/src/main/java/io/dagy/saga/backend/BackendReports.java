package io.dagy.saga.backend;

import java.util.Map;

/** Where backends send what happened to an attempt. In Dagy these go through the SQS events queue. */
public interface BackendReports {

    void started(String dispatchId);

    /** The attempt started; the caller need not wait until that is recorded. */
    default void startedInBackground(String dispatchId) {
        started(dispatchId);
    }

    /**
     * The attempt started; recording it may wait a moment for the attempt's first report (a heartbeat or its end),
     * which then records it with itself.
     */
    default void startedUnlessReported(String dispatchId) {
        startedInBackground(dispatchId);
    }

    void heartbeat(String dispatchId);

    void succeeded(String dispatchId, Map<String, Object> output);

    void failed(String dispatchId, String errorKind, String message);
}
