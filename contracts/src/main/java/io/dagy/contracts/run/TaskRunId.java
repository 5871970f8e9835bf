package io.dagy.contracts.run;

/** A task's run within a run: {@code <runId>/<taskId>}, deterministic so a repeated request addresses the same one. */
public record TaskRunId(String value) {

    public TaskRunId {
        if (value == null || !value.contains("/")) {
            throw new IllegalArgumentException("a task run id is <runId>/<taskId>: " + value);
        }
    }

    public static TaskRunId of(RunId run, String taskId) {
        return new TaskRunId(run.value() + "/" + taskId);
    }

    public RunId runId() {
        return new RunId(value.substring(0, value.indexOf('/')));
    }

    public String taskId() {
        return value.substring(value.indexOf('/') + 1);
    }

    /** The id a backend receives for one attempt and uses as its idempotency token: {@code <runId>/<taskId>/<attempt>}. */
    public String dispatchId(int attempt) {
        return value + "/" + attempt;
    }

    @Override
    public String toString() {
        return value;
    }
}
