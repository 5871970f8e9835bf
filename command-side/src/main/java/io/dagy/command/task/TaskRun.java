package io.dagy.command.task;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.common.DagyRuleViolation;
import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.run.TaskRunCommands.CancelTaskRun;
import io.dagy.contracts.run.TaskRunCommands.CompleteTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.DispatchNextAttempt;
import io.dagy.contracts.run.TaskRunCommands.FailTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunCommands.RecordHeartbeat;
import io.dagy.contracts.run.TaskRunCommands.StartTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.TimeOutTaskAttempt;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptFailed;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptHeartbeat;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptStarted;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptSucceeded;
import io.dagy.contracts.run.TaskRunEvents.TaskQueued;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.command.common.Tenancy;
import io.dagy.contracts.identity.MessageKeys;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.messaging.annotation.MetaDataValue;
import org.axonframework.modelling.command.CommandHandlerInterceptor;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * One task of one run: its attempts, retries and final state. Every report names its attempt: a report for an earlier
 * attempt, or for a finished task run, is late or repeated and changes nothing.
 */
@Aggregate(commandTargetResolver = DagyCommandTargetResolver.BEAN_NAME, cache = "taskRunCache")
public class TaskRun {

    /** The error kind of an expired timeout, as retry policies name it. */
    public static final String TIMEOUT = "timeout";

    @AggregateIdentifier
    private String taskRunId;
    private Dag.Task spec;
    private Map<String, Object> params;
    private int attempt;
    private TaskStatus status;
    /** The run's rerun this task run last ran for, and the first attempt of it (retry budgets are per rerun). */
    private int rerun;
    private int firstAttemptOfRerun;
    /** The organization of the run; events stored before tenancy read as {@code default}. */
    private String organization;

    protected TaskRun() {
        // for Axon
    }

    /**
     * A task run made in the unit of work that decided its task was ready ({@code TaskOutcomes}, {@code InlineQueue}):
     * the task is new there.
     */
    public TaskRun(QueueTask command) {
        queueFirst(command);
    }

    /**
     * Queues the task from a command ({@code RunOrchestration}: a fan-out too large for one commit, or a rerun): a task
     * run it finds is run again, if its rerun is new and it ended unsuccessfully; otherwise it is created. One command,
     * so the sender need not tell the cases apart by the failure of the other.
     */
    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    void handle(QueueTask command) {
        if (taskRunId == null) {
            queueFirst(command);
        } else {
            requeue(command.rerun());
        }
    }

    private void queueFirst(QueueTask command) {
        TaskRunId id = command.taskRunId();
        apply(new TaskQueued(id, id.runId(), id.taskId(), command.rerun()));
        apply(new TaskAttemptDispatched(id, 1, id.dispatchId(1), command.spec(), command.params()));
    }

    @CommandHandler
    void handle(StartTaskAttempt command) {
        if (isCurrent(command.attempt()) && status == TaskStatus.DISPATCHED) {
            apply(new TaskAttemptStarted(command.taskRunId(), command.attempt()));
        }
    }

    @CommandHandler
    void handle(RecordHeartbeat command) {
        if (command.attempt() == attempt && (status == TaskStatus.RUNNING || status == TaskStatus.DISPATCHED)) {
            apply(new TaskAttemptHeartbeat(command.taskRunId(), command.attempt()));
        }
    }

    /*
     * Reports that may end the task run are not command handlers here: TaskOutcomes handles them, so that the run
     * records the outcome, and queues the tasks it makes ready, in the same unit of work (one commit per hop). Each
     * method answers the outcome when the task run ended now.
     */

    /** The attempt succeeded. */
    public Optional<TaskStatus> complete(CompleteTaskAttempt command) {
        Tenancy.stamp(organization);
        if (!isCurrent(command.attempt())) {
            return Optional.empty();
        }
        recordStartOvertaken(command.attempt());
        apply(new TaskAttemptSucceeded(command.taskRunId(), command.attempt(), command.output()));
        return finish(TaskStatus.SUCCEEDED);
    }

    /** The attempt failed: retried if its policy allows, else the task run failed. */
    public Optional<TaskStatus> fail(FailTaskAttempt command) {
        Tenancy.stamp(organization);
        if (!isCurrent(command.attempt())) {
            return Optional.empty();
        }
        recordStartOvertaken(command.attempt());
        return fail(command.errorKind(), command.message());
    }

    /**
     * A backend reports the start of an attempt in the background (a worker gets its attempt before the start is
     * recorded), so its end can arrive first: the start is then recorded with the end, and the late start report
     * changes nothing.
     */
    private void recordStartOvertaken(int reported) {
        if (status == TaskStatus.DISPATCHED) {
            apply(new TaskAttemptStarted(new TaskRunId(taskRunId), reported));
        }
    }

    /** A timeout of the attempt expired: a failure of kind {@value #TIMEOUT}. */
    public Optional<TaskStatus> timeOut(TimeOutTaskAttempt command) {
        Tenancy.stamp(organization);
        return isCurrent(command.attempt())
                ? fail(TIMEOUT, command.timeout() + " timeout of " + spec.id() + " expired")
                : Optional.empty();
    }

    /** The run is being cancelled: the task run ends unless it has. */
    public Optional<TaskStatus> cancel(CancelTaskRun command) {
        Tenancy.stamp(organization);
        return status.isTerminal() ? Optional.empty() : finish(TaskStatus.CANCELLED);
    }

    @CommandHandler
    void handle(DispatchNextAttempt command) {
        if (status == TaskStatus.RETRY_WAIT && command.attempt() == attempt + 1) {
            TaskRunId id = new TaskRunId(taskRunId);
            apply(new TaskAttemptDispatched(id, command.attempt(), id.dispatchId(command.attempt()), spec, params));
        }
    }

    /** Runs a finished, unsuccessful task run again for a rerun it has not seen, as a new attempt. */
    private void requeue(int newRerun) {
        if (newRerun <= rerun || !status.isTerminal() || status == TaskStatus.SUCCEEDED) {
            return; // a rerun seen before (or a redelivered first queueing), or nothing to run again
        }
        TaskRunId id = new TaskRunId(taskRunId);
        apply(new TaskQueued(id, id.runId(), id.taskId(), newRerun));
        apply(new TaskAttemptDispatched(id, attempt + 1, id.dispatchId(attempt + 1), spec, params));
    }

    /** True for a report about the attempt in flight; false for a late one; a future attempt is an error. */
    private boolean isCurrent(int reported) {
        if (reported > attempt) {
            throw new DagyRuleViolation(BusinessError.of(ErrorCode.VALIDATION_FAILED,
                    "task run " + taskRunId + " has no attempt " + reported + " (current: " + attempt + ")"));
        }
        return reported == attempt && !status.isTerminal() && status != TaskStatus.RETRY_WAIT;
    }

    private Optional<TaskStatus> fail(String errorKind, String message) {
        Dag.RetryPolicy retry = spec.retry();
        boolean retryable = attempt - firstAttemptOfRerun + 1 < retry.maxAttempts()
                && (retry.retryOn().contains("*") || retry.retryOn().contains(errorKind));
        TaskRunId id = new TaskRunId(taskRunId);
        if (retryable) {
            apply(new TaskAttemptFailed(id, attempt, errorKind, message, retryDelay(retry, attempt)));
            return Optional.empty();
        }
        apply(new TaskAttemptFailed(id, attempt, errorKind, message, null));
        return finish(TIMEOUT.equals(errorKind) ? TaskStatus.TIMED_OUT : TaskStatus.FAILED);
    }

    /**
     * The wait after failed attempt {@code n}: {@code min(maxDelay, initialInterval * backoffRate^(n-1))}, with full
     * jitter drawn uniformly from [0, that]. The event records the drawn value, so replays agree.
     */
    static Duration retryDelay(Dag.RetryPolicy retry, int failedAttempt) {
        double millis = retry.initialInterval().toMillis() * Math.pow(retry.backoffRate(), failedAttempt - 1);
        long capped = (long) Math.min(retry.maxDelay().toMillis(), millis);
        return Duration.ofMillis(retry.jitter() ? ThreadLocalRandom.current().nextLong(capped + 1) : capped);
    }

    /** The task run ends; its caller records the outcome with the run in the same unit of work. */
    private Optional<TaskStatus> finish(TaskStatus outcome) {
        TaskRunId id = new TaskRunId(taskRunId);
        apply(new TaskRunFinished(id, id.runId(), id.taskId(), outcome, attempt, true));
        return Optional.of(outcome);
    }

    @CommandHandlerInterceptor
    void stampOrganization() {
        Tenancy.stamp(organization);
    }

    @EventSourcingHandler
    void on(TaskQueued event, @MetaDataValue(MessageKeys.ORG_ID) String org) {
        if (organization == null) {
            organization = org;
        }
        taskRunId = event.taskRunId().value();
        status = TaskStatus.QUEUED;
        rerun = event.rerun();
        firstAttemptOfRerun = attempt + 1;
    }

    @EventSourcingHandler
    void on(TaskAttemptDispatched event) {
        attempt = event.attempt();
        spec = event.spec();
        params = event.params();
        status = TaskStatus.DISPATCHED;
    }

    @EventSourcingHandler
    void on(TaskAttemptStarted event) {
        status = TaskStatus.RUNNING;
    }

    @EventSourcingHandler
    void on(TaskAttemptFailed event) {
        status = event.retryIn() == null ? TaskStatus.FAILED : TaskStatus.RETRY_WAIT;
    }

    @EventSourcingHandler
    void on(TaskRunFinished event) {
        status = event.outcome();
    }
}
