package io.dagy.query.run;

import io.dagy.contracts.run.RunQueries.RunView;

/**
 * Told by {@link RunViewProjection} when a run starts and when it finishes, once per event as the view records it
 * (never during a replay of the view). The view already holds what a run's duration needs, so observing costs no
 * read. Calls happen inside the projection's unit of work: an observer that counts should count only once it commits.
 */
public interface RunObserver {

    /** Observes nothing. */
    RunObserver NONE = new RunObserver() {
        @Override
        public void runStarted(RunView run) {
        }

        @Override
        public void runFinished(RunView run) {
        }
    };

    void runStarted(RunView run);

    /** {@code run} has its final status, its start and its end. */
    void runFinished(RunView run);
}
