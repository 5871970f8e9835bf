package io.dagy.saga.backend;

import io.dagy.contracts.deployment.BackendType;

/**
 * Where task attempts run. A backend reports what happens to an attempt through {@link BackendReports}, never by
 * return value: reports may come much later, from elsewhere (a worker, an AWS service), through the events queue.
 */
public interface ExecutionBackend {

    BackendType type();

    /** Starts the attempt unless this dispatch id was started before. Returns quickly. */
    void dispatch(Dispatch dispatch);

    /** Stops the attempt if it still runs; unknown or finished dispatch ids are ignored. */
    void cancel(String dispatchId);
}
