package io.dagy.saga.backend;

/**
 * Carries the context of the thread that hands work to another thread (the trace being recorded, the logging
 * context) over to that thread: a backend's work and its reports then belong to the dispatch's trace and log lines.
 * Called on the handing thread; the returned task runs on the other.
 */
@FunctionalInterface
public interface ContextCarrier {

    /** Carries nothing. */
    ContextCarrier NONE = task -> task;

    Runnable carry(Runnable task);
}
