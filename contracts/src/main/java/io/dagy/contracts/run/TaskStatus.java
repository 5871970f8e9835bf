package io.dagy.contracts.run;

public enum TaskStatus {
    PENDING, QUEUED, DISPATCHED, RUNNING, RETRY_WAIT, SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, SKIPPED, UPSTREAM_FAILED;

    public boolean isTerminal() {
        return switch (this) {
            case SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, SKIPPED, UPSTREAM_FAILED -> true;
            default -> false;
        };
    }

    /** Failed in its own right (not because of upstream tasks). */
    public boolean isFailure() {
        return this == FAILED || this == TIMED_OUT;
    }
}
