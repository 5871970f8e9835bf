package io.dagy.saga.task;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrgId;
import org.axonframework.messaging.annotation.MetaDataValue;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.run.TaskRunCommands.DispatchNextAttempt;
import io.dagy.contracts.run.TaskRunCommands.TimeOutTaskAttempt;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptFailed;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptHeartbeat;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptStarted;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptSucceeded;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.Dispatch;
import io.dagy.saga.backend.ExecutionBackends;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.deadline.annotation.DeadlineHandler;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.modelling.saga.EndSaga;
import org.axonframework.modelling.saga.SagaEventHandler;
import org.axonframework.modelling.saga.StartSaga;

import java.time.Duration;
import java.time.Instant;

/**
 * Executes one task run: hands each attempt to its backend under its dispatch id, holds the attempt's timeouts as
 * durable deadlines, waits out retry delays as deadlines, and stops the backend's work when a timeout expires. Its
 * fields are data only; resources arrive as handler parameters. Every path ends with {@code TaskRunFinished}.
 * Registered with a {@link SegmentOwnedSagaManager}: each event is looked at only by the segment of its task run.
 */
public class TaskExecutionSaga {

    /** The association of every event of the saga: its task run (which also keys the saga, decision 81). */
    public static final String ASSOCIATION = "taskRunId";
    static final String ATTEMPT_TIMEOUT = "attempt-timeout";
    static final String RETRY = "retry";
    /** The error kind of a timed-out attempt (command-side's {@code TaskRun.TIMEOUT}). */
    private static final String TIMEOUT_ERROR_KIND = "timeout";

    private TaskRunId taskRunId;
    private int attempt;
    private String dispatchId;
    private BackendType backend;
    private String scheduleToStartDeadline;
    private String startToCloseDeadline;
    private String heartbeatDeadline;
    private Duration heartbeatTimeout;
    /** When the current attempt was dispatched and started (event times): its meters (docs/operations.md). */
    private Instant dispatchedAt;
    private Instant startedAt;

    /**
     * Whether an event comes first to its saga, which cannot exist yet: a task run's first dispatch (later attempts
     * find the saga; a rerun's dispatch follows the end of the one before, which deleted it, but is not presumed).
     */
    public static boolean startsItsSaga(EventMessage<?> event) {
        return event.getPayload() instanceof TaskAttemptDispatched dispatched && dispatched.attempt() == 1;
    }

    /** The payload of a timeout deadline: which attempt, which timeout. */
    public record AttemptTimeout(int attempt, String timeout) {
    }

    /** The payload of a retry deadline: the attempt to dispatch. */
    public record RetryDue(int attempt) {
    }

    @StartSaga
    @SagaEventHandler(associationProperty = ASSOCIATION)
    void on(TaskAttemptDispatched event, @MetaDataValue(MessageKeys.ORG_ID) String org, @Timestamp Instant at,
            @MetaDataValue(Dispatch.TRACEPARENT) String traceparent, ExecutionBackends backends, BackendReports reports,
            DeadlineManager deadlines) {
        taskRunId = event.taskRunId();
        attempt = event.attempt();
        dispatchedAt = at;
        startedAt = null;
        dispatchId = event.dispatchId();
        backend = event.spec().backend().type();
        Dag.Timeouts timeouts = event.spec().timeouts();
        heartbeatTimeout = timeouts.heartbeat();
        scheduleToStartDeadline = schedule(deadlines, timeouts.scheduleToStart(), "schedule_to_start");
        startToCloseDeadline = schedule(deadlines, timeouts.startToClose(), "start_to_close");
        if (!backends.has(backend)) {
            reports.failed(dispatchId, "backend_unavailable", "this installation has no " + backend.wire() + " backend");
            return;
        }
        backends.of(backend).dispatch(new Dispatch(dispatchId, org == null ? null : new OrgId(org), taskRunId, attempt,
                event.spec(), event.params(), traceparent));
    }

    @SagaEventHandler(associationProperty = ASSOCIATION)
    void on(TaskAttemptStarted event, @Timestamp Instant at, DeadlineManager deadlines, TaskObserver observer) {
        if (event.attempt() != attempt) {
            return;
        }
        if (startedAt == null && dispatchedAt != null) {
            observer.attemptStarted(backend, Duration.between(dispatchedAt, at));
        }
        startedAt = at;
        if (scheduleToStartDeadline != null) {
            deadlines.cancelSchedule(ATTEMPT_TIMEOUT, scheduleToStartDeadline);
            scheduleToStartDeadline = null;
        }
        restartHeartbeatTimeout(deadlines);
    }

    /** A heartbeat restarts the heartbeat timeout: an attempt that stops beating times out. */
    @SagaEventHandler(associationProperty = ASSOCIATION)
    void on(TaskAttemptHeartbeat event, DeadlineManager deadlines) {
        if (event.attempt() == attempt) {
            restartHeartbeatTimeout(deadlines);
        }
    }

    private void restartHeartbeatTimeout(DeadlineManager deadlines) {
        if (heartbeatDeadline != null) {
            deadlines.cancelSchedule(ATTEMPT_TIMEOUT, heartbeatDeadline);
        }
        heartbeatDeadline = schedule(deadlines, heartbeatTimeout, "heartbeat");
    }

    @SagaEventHandler(associationProperty = ASSOCIATION)
    void on(TaskAttemptSucceeded event, @Timestamp Instant at, DeadlineManager deadlines, TaskObserver observer) {
        cancelTimeouts(deadlines);
        if (event.attempt() == attempt && startedAt != null) {
            observer.attemptEnded(backend, "succeeded", Duration.between(startedAt, at));
        }
    }

    @SagaEventHandler(associationProperty = ASSOCIATION)
    void on(TaskAttemptFailed event, @Timestamp Instant at, DeadlineManager deadlines, TaskObserver observer) {
        cancelTimeouts(deadlines);
        if (event.attempt() == attempt) {
            boolean timedOut = TIMEOUT_ERROR_KIND.equals(event.errorKind());
            if (startedAt != null) {
                observer.attemptEnded(backend, timedOut ? "timed_out" : "failed", Duration.between(startedAt, at));
            }
            if (event.retryIn() != null) {
                observer.retryScheduled(backend, event.errorKind());
            }
        }
        if (event.retryIn() != null) {
            deadlines.schedule(event.retryIn(), RETRY, new RetryDue(event.attempt() + 1));
        }
    }

    /**
     * The retry is due: dispatch the next attempt. The command is awaited, so a dispatch that fails fails the deadline,
     * which the deadline manager fires again (and parks after its attempts) instead of leaving the task in
     * {@code RETRY_WAIT} for ever.
     */
    @DeadlineHandler(deadlineName = RETRY)
    void on(RetryDue due, CommandGateway commands) {
        commands.sendAndWait(new DispatchNextAttempt(taskRunId, due.attempt()));
    }

    /** A timeout expired: stop the backend's work, then fail the attempt (which may retry); awaited, as a retry is. */
    @DeadlineHandler(deadlineName = ATTEMPT_TIMEOUT)
    void on(AttemptTimeout timeout, CommandGateway commands, ExecutionBackends backends, TaskObserver observer) {
        if (timeout.attempt() != attempt) {
            return;
        }
        if (backends.has(backend)) {
            backends.of(backend).cancel(dispatchId);
        }
        observer.timedOut(backend, timeout.timeout());
        commands.sendAndWait(new TimeOutTaskAttempt(taskRunId, timeout.attempt(), timeout.timeout()));
    }

    /** The end of every path; a cancelled task run also stops its attempt in the backend. */
    @EndSaga
    @SagaEventHandler(associationProperty = ASSOCIATION)
    void on(TaskRunFinished event, DeadlineManager deadlines, ExecutionBackends backends) {
        cancelTimeouts(deadlines);
        if (event.outcome() == TaskStatus.CANCELLED && backends.has(backend)) {
            backends.of(backend).cancel(dispatchId);
        }
    }

    private String schedule(DeadlineManager deadlines, Duration after, String timeout) {
        return after == null ? null : deadlines.schedule(after, ATTEMPT_TIMEOUT, new AttemptTimeout(attempt, timeout));
    }

    private void cancelTimeouts(DeadlineManager deadlines) {
        if (scheduleToStartDeadline != null) {
            deadlines.cancelSchedule(ATTEMPT_TIMEOUT, scheduleToStartDeadline);
            scheduleToStartDeadline = null;
        }
        if (startToCloseDeadline != null) {
            deadlines.cancelSchedule(ATTEMPT_TIMEOUT, startToCloseDeadline);
            startToCloseDeadline = null;
        }
        if (heartbeatDeadline != null) {
            deadlines.cancelSchedule(ATTEMPT_TIMEOUT, heartbeatDeadline);
            heartbeatDeadline = null;
        }
    }
}
