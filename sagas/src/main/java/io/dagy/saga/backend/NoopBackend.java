package io.dagy.saga.backend;

import io.dagy.contracts.deployment.BackendType;

import java.util.Map;

/** Succeeds at once: for tests and benchmarks of the orchestration itself. */
public final class NoopBackend implements ExecutionBackend {

    private final BackendReports reports;

    public NoopBackend(BackendReports reports) {
        this.reports = reports;
    }

    @Override
    public BackendType type() {
        return BackendType.NOOP;
    }

    @Override
    public void dispatch(Dispatch dispatch) {
        reports.succeeded(dispatch.dispatchId(), Map.of());
    }

    @Override
    public void cancel(String dispatchId) {
        // nothing runs
    }
}
