package io.dagy.contracts.run;

public enum RunStatus {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLING, CANCELLED, TIMED_OUT;

    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED || this == TIMED_OUT;
    }
}
