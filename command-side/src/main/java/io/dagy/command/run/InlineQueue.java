package io.dagy.command.run;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunId;

import java.util.List;
import java.util.Map;

/**
 * Which ready tasks a run queues in the very unit of work that made them ready, so that a hop of a DAG is one commit:
 * a few, small enough for one DynamoDB transaction together with the outcome and the run's decision. A larger fan-out
 * goes through the orchestration ({@code TasksReady} with {@code queued} false).
 */
final class InlineQueue {

    /**
     * At most this many task runs are created with a decision: with the outcome's events (up to 2), the run's (up to 4)
     * and 2 per task run, 38 events, within the event store's 50 per unit of work.
     */
    static final int MAX_TASKS = 16;

    /**
     * A bound on the characters of the specs and params the queued events carry (each queued task's events carry its
     * spec and the run's params), far below a transaction's 4 MB with every event stored twice.
     */
    static final long MAX_CHARACTERS = 1_000_000;

    private InlineQueue() {
    }

    static boolean fits(List<Dag.Task> ready, Map<String, Object> params) {
        if (ready.size() > MAX_TASKS) {
            return false;
        }
        long characters = (long) String.valueOf(params).length() * (ready.size() + 1);
        for (Dag.Task task : ready) {
            characters += 2L * task.toString().length();
        }
        return characters <= MAX_CHARACTERS;
    }

    static List<QueueTask> commands(RunId runId, List<Dag.Task> ready, Map<String, Object> params, int rerun) {
        return ready.stream().map(task -> new QueueTask(TaskRunId.of(runId, task.id()), task, params, rerun)).toList();
    }
}
