package io.dagy.saga.schedule;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;

/**
 * Whether a scheduled run may start: the organization's plan (docs/billing.md) is asked before the run's start is
 * sent, as it is for a run started through the API, so a schedule cannot run past the plan's limits.
 */
@FunctionalInterface
public interface RunAdmission {

    /** Every run is admitted (billing off, or a test without billing). */
    RunAdmission OPEN = (org, run) -> () -> { };

    /**
     * Admits the run, or throws {@link Refusal}. The returned action gives the admission back; it is called when the
     * start itself is refused (a run that exists already keeps it).
     */
    Runnable admit(OrgId org, RunId run);

    /** The plan refuses the run: its code and message, as the API would answer them. */
    final class Refusal extends RuntimeException {
        private final BusinessError error;

        public Refusal(BusinessError error) {
            super(error.code().code() + ": " + error.message());
            this.error = error;
        }

        public BusinessError error() {
            return error;
        }
    }
}
