package io.dagy.contracts.run;

import io.dagy.contracts.AggregateCommand;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Commands on runs. */
public final class RunCommands {

    private RunCommands() {
    }

    /**
     * Starts a run of a deployment's current version. The run id is chosen by the caller: derived from the
     * idempotency key when there is one, so the same key can only ever start one run. Params with null values are
     * kept here (not refused with a NullPointerException) so that the handler can refuse them by name.
     */
    public record StartRun(RunId runId, OrgId organization, DeploymentName deployment, Map<String, Object> params) {
        public StartRun {
            params = params == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(params));
        }
    }

    /** A task of the run reached a final state. Repeating it changes nothing. */
    public record RecordTaskOutcome(RunId runId, String taskId, TaskStatus outcome) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return runId.value();
        }
    }

    /**
     * Cancels a run: running attempts are stopped, tasks not started never run. Repeating it changes nothing. A run of
     * another organization answers as if it did not exist.
     */
    public record CancelRun(RunId runId, OrgId organization) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return runId.value();
        }
    }

    /**
     * Runs again, as new attempts in the same run, every task that failed, timed out, was cancelled or was
     * upstream-failed; succeeded tasks keep their results. Only a finished run can be rerun.
     */
    public record RerunRun(RunId runId, OrgId organization) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return runId.value();
        }
    }
}
