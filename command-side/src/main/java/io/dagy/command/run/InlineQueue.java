package io.dagy.command.run;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunCommands.QueueTasks;
import io.dagy.contracts.run.TaskRunId;

import java.util.List;
import java.util.Map;

/**
 * Which ready tasks a run queues in the very unit of work that made them ready, so that a hop of a DAG is one commit:
 * a few, small enough for one DynamoDB transaction together with the outcome and the run's decision. A larger fan-out
 * goes through the orchestration ({@code TasksReady} with {@code queued} false), in batches ({@code QueueTasks}).
 */
final class InlineQueue {

    /**
     * At most this many task runs are created with a decision: with the outcome's events (up to 2), the run's (up to 4)
     * and 2 per task run, 38 events, within the event store's 50 per unit of work.
     */
    static final int MAX_TASKS = 16;

    private InlineQueue() {
    }

    static boolean fits(List<Dag.Task> ready, Map<String, Object> params) {
        return ready.size() <= MAX_TASKS && QueueTasks.characters(ready, params) <= QueueTasks.MAX_CHARACTERS;
    }

    static List<QueueTask> commands(RunId runId, List<Dag.Task> ready, Map<String, Object> params, int rerun) {
        return ready.stream().map(task -> new QueueTask(TaskRunId.of(runId, task.id()), task, params, rerun)).toList();
    }
}
