package io.dagy.saga.task;

import io.dagy.contracts.deployment.BackendType;

import java.time.Duration;

/**
 * Told by {@link TaskExecutionSaga} what its attempts did, once per event as the saga handles it. The saga already
 * holds the backend and the attempt's times in its state, so observing costs no read. Calls happen inside the saga's
 * unit of work: an observer that counts should count only once it commits. A handler parameter (a resource), so the
 * saga's fields stay data.
 */
public interface TaskObserver {

    /** Observes nothing. */
    TaskObserver NONE = new TaskObserver() {
    };

    /** An attempt started {@code sinceDispatch} after it was dispatched. */
    default void attemptStarted(BackendType backend, Duration sinceDispatch) {
    }

    /** An attempt that had started ended ({@code succeeded}, {@code failed} or {@code timed_out}) after running this long. */
    default void attemptEnded(BackendType backend, String outcome, Duration ran) {
    }

    /** A failed attempt is followed by another one. */
    default void retryScheduled(BackendType backend, String errorKind) {
    }

    /** An attempt timed out ({@code schedule_to_start}, {@code start_to_close} or {@code heartbeat}). */
    default void timedOut(BackendType backend, String timeout) {
    }
}
