package io.dagy.saga.backend;

import java.util.Map;

/** Where backends send what happened to an attempt. In Dagy these go through the SQS events queue. */
public interface BackendReports {

    void started(String dispatchId);

    /** The attempt started; the caller need not wait until that is recorded. */
    default void startedInBackground(String dispatchId) {
        started(dispatchId);
    }

    void heartbeat(String dispatchId);

    void succeeded(String dispatchId, Map<String, Object> output);

    void failed(String dispatchId, String errorKind, String message);
}
