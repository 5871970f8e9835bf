package io.dagy.command.task;

import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunCommands.QueueTasks;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.modelling.command.Repository;

/**
 * Queues a batch of tasks new to their run in one unit of work: each task run is created without a read (a
 * {@code QueueTask} to a task run that may exist loads it first: a snapshot read and an events query), and the batch
 * is one append, one DynamoDB transaction. If one of its task runs exists, the append is refused whole and nothing is
 * written (see {@link QueueTasks}).
 */
public class TaskQueueing {

    private final Repository<TaskRun> taskRuns;

    public TaskQueueing(Repository<TaskRun> taskRuns) {
        this.taskRuns = taskRuns;
    }

    @CommandHandler
    void handle(QueueTasks command) throws Exception {
        for (QueueTask task : command.each()) {
            taskRuns.newInstance(() -> new TaskRun(task));
        }
    }
}
