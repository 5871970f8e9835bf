package io.dagy.query.run;

import io.dagy.contracts.run.RunEvents.RunCancelling;
import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunEvents.RunRerunStarted;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.run.RunEvents.TaskOutcomeRecorded;
import io.dagy.contracts.run.RunEvents.TasksNotRun;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.RunQueries.AttemptView;
import io.dagy.contracts.run.RunQueries.RunProgressView;
import io.dagy.contracts.run.RunQueries.RunView;
import io.dagy.contracts.run.RunQueries.TaskCounts;
import io.dagy.contracts.run.RunQueries.TaskView;
import io.dagy.contracts.run.RunStatus;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptFailed;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptStarted;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptSucceeded;
import io.dagy.contracts.run.TaskRunEvents.TaskQueued;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.contracts.run.TaskStatus;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ReplayStatus;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.Timestamp;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Writes the run views ({@link RunViews} has their items). Each event rewrites one or two small items:
 * <ul>
 *   <li>the run's events (sequence numbers of the run aggregate) keep the header and the progress (task counts); the
 *       progress remembers the last run event applied and skips older ones;</li>
 *   <li>task-run events rewrite their task's item, which remembers the last task-run event applied and skips older ones
 *       (-1: none yet, so the first event of a task run created later, sequence 0, applies).</li>
 * </ul>
 * A redelivered event therefore changes nothing. Events of one run arrive in order on one segment
 * ({@code RunSequencingPolicy}). Reads go through the open transaction, so a batch reads what its earlier events wrote;
 * a hop of a DAG (one task's end, the run's decision, the next task's dispatch) costs the reads of the ending task and
 * of the progress, and one transaction.
 */
@ProcessingGroup(RunViewProjection.PROCESSING_GROUP)
public class RunViewProjection {

    public static final String PROCESSING_GROUP = "run-views";

    private final RunViews views;
    private final RunObserver observer;

    public RunViewProjection(RunViews views) {
        this(views, RunObserver.NONE);
    }

    /** Tells {@code observer} of each run's start and end as the view records them (not during a replay). */
    public RunViewProjection(RunViews views, RunObserver observer) {
        this.views = views;
        this.observer = observer;
    }

    @ResetHandler
    void reset() {
        views.deleteAll();
    }

    @EventHandler
    void on(RunStarted event, @SequenceNumber long sequence, @Timestamp Instant at, ReplayStatus replay) {
        String runId = event.runId().value();
        RunView run = new RunView(event.runId(), event.organization(), event.deployment(), event.version(),
                RunStatus.RUNNING, at, null, event.dag().tasks().stream().map(task -> task.id()).toList());
        views.putHeader(run);
        if (!replay.isReplay()) {
            observer.runStarted(run);
        }
        views.putProgress(runId, new RunProgressView(sequence, 0, TaskCounts.of(event.dag().tasks().size())));
    }

    @EventHandler
    void on(TasksReady event, @SequenceNumber long sequence) {
        progress(event.runId().value(), sequence, progress -> progress.counts().ready(event.tasks().size()));
    }

    @EventHandler
    void on(TaskOutcomeRecorded event, @SequenceNumber long sequence) {
        progress(event.runId().value(), sequence, progress -> progress.counts().outcome(event.outcome()));
    }

    /**
     * Tasks that will never run get their final state at once; a fan-out may hold thousands. In a run's first execution
     * they have no task run (only pending tasks are decided this way), so their items are written without reading them,
     * with no task-run event applied (-1): should a rerun create their task run, its first event applies. After a rerun
     * a task may have a task run from before: its item is read and keeps its attempts and sequence.
     */
    @EventHandler
    void on(TasksNotRun event, @SequenceNumber long sequence) {
        String runId = event.runId().value();
        Optional<RunProgressView> progress = views.progress(runId);
        if (progress.isPresent() && progress.get().sequence() >= sequence) {
            return; // applied before
        }
        boolean firstExecution = progress.isPresent() && progress.get().rerun() == 0;
        List<TaskView> tasks = new ArrayList<>();
        event.outcomes().forEach((taskId, status) -> {
            TaskView before = firstExecution ? RunViews.pendingTask(taskId)
                    : views.task(runId, taskId).orElse(RunViews.pendingTask(taskId));
            tasks.add(new TaskView(taskId, status, before.attempts(), before.sequence()));
        });
        views.putTasks(runId, tasks);
        progress.ifPresent(p -> views.putProgress(runId,
                new RunProgressView(sequence, p.rerun(), p.counts().notRun(event.outcomes().values()))));
    }

    @EventHandler
    void on(RunFinished event, @Timestamp Instant at, ReplayStatus replay) {
        views.header(event.runId().value()).ifPresent(run -> {
            RunView finished = new RunView(run.runId(), run.organization(), run.deployment(), run.version(),
                    event.status(), run.startedAt(), at, run.taskIds());
            views.putHeader(finished);
            if (!replay.isReplay()) {
                observer.runFinished(finished);
            }
        });
    }

    /**
     * The reset tasks are pending again: their items say so (keeping their attempts, numbered on by the new ones, and
     * their sequence), and the counts move them from their final states back to pending.
     */
    @EventHandler
    void on(RunRerunStarted event, @SequenceNumber long sequence) {
        String runId = event.runId().value();
        views.header(runId).ifPresent(run -> views.putHeader(new RunView(run.runId(), run.organization(),
                run.deployment(), run.version(), RunStatus.RUNNING, run.startedAt(), null, run.taskIds())));
        Optional<RunProgressView> progress = views.progress(runId);
        if (progress.isPresent() && progress.get().sequence() >= sequence) {
            return; // applied before
        }
        List<TaskStatus> previous = new ArrayList<>();
        List<TaskView> reset = new ArrayList<>();
        for (String taskId : event.resetTasks()) {
            TaskView before = views.task(runId, taskId).orElse(RunViews.pendingTask(taskId));
            previous.add(before.status());
            reset.add(new TaskView(taskId, TaskStatus.PENDING, before.attempts(), before.sequence()));
        }
        views.putTasks(runId, reset);
        progress.ifPresent(p -> views.putProgress(runId,
                new RunProgressView(sequence, event.rerun(), p.counts().reset(previous))));
    }

    @EventHandler
    void on(RunCancelling event) {
        views.header(event.runId().value()).ifPresent(run -> views.putHeader(new RunView(run.runId(), run.organization(),
                run.deployment(), run.version(), RunStatus.CANCELLING, run.startedAt(), null, run.taskIds())));
    }

    /**
     * A task run's first event (sequence 0) makes its item anew: nothing of a task run can precede it, so it needs no
     * read (what the item held came from the run's decisions, and a rerun's task run never starts at 0).
     */
    @EventHandler
    void on(TaskQueued event, @SequenceNumber long sequence) {
        if (sequence == 0) {
            views.putTask(event.runId().value(), new TaskView(event.taskId(), TaskStatus.QUEUED, List.of(), 0));
            return;
        }
        updateTask(event.taskRunId(), sequence, task -> new TaskView(task.taskId(), TaskStatus.QUEUED, task.attempts(), sequence));
    }

    @EventHandler
    void on(TaskAttemptDispatched event, @SequenceNumber long sequence, @Timestamp Instant at) {
        updateTask(event.taskRunId(), sequence, task -> {
            List<AttemptView> attempts = new ArrayList<>(task.attempts());
            attempts.add(new AttemptView(event.attempt(), TaskStatus.DISPATCHED, at, null, null, null, null, null));
            return new TaskView(task.taskId(), TaskStatus.DISPATCHED, attempts, sequence);
        });
    }

    @EventHandler
    void on(TaskAttemptStarted event, @SequenceNumber long sequence, @Timestamp Instant at) {
        updateTask(event.taskRunId(), sequence, task -> withAttempt(task, event.attempt(), TaskStatus.RUNNING, sequence,
                a -> new AttemptView(a.attempt(), TaskStatus.RUNNING, a.dispatchedAt(), at, null, null, null, null)));
    }

    @EventHandler
    void on(TaskAttemptSucceeded event, @SequenceNumber long sequence, @Timestamp Instant at) {
        updateTask(event.taskRunId(), sequence, task -> withAttempt(task, event.attempt(), TaskStatus.SUCCEEDED, sequence,
                a -> new AttemptView(a.attempt(), TaskStatus.SUCCEEDED, a.dispatchedAt(), a.startedAt(), at, null, null,
                        event.output())));
    }

    @EventHandler
    void on(TaskAttemptFailed event, @SequenceNumber long sequence, @Timestamp Instant at) {
        TaskStatus taskStatus = event.retryIn() == null ? TaskStatus.FAILED : TaskStatus.RETRY_WAIT;
        TaskStatus attemptStatus = "timeout".equals(event.errorKind()) ? TaskStatus.TIMED_OUT : TaskStatus.FAILED;
        updateTask(event.taskRunId(), sequence, task -> withAttempt(task, event.attempt(), taskStatus, sequence,
                a -> new AttemptView(a.attempt(), attemptStatus, a.dispatchedAt(), a.startedAt(), at, event.errorKind(),
                        event.message(), null)));
    }

    @EventHandler
    void on(TaskRunFinished event, @SequenceNumber long sequence) {
        updateTask(event.taskRunId(), sequence, task -> new TaskView(task.taskId(), event.outcome(), task.attempts(), sequence));
    }

    private static TaskView withAttempt(TaskView task, int attempt, TaskStatus status, long sequence,
                                        UnaryOperator<AttemptView> change) {
        List<AttemptView> attempts = new ArrayList<>(task.attempts());
        for (int i = 0; i < attempts.size(); i++) {
            if (attempts.get(i).attempt() == attempt) {
                attempts.set(i, change.apply(attempts.get(i)));
            }
        }
        return new TaskView(task.taskId(), status, attempts, sequence);
    }

    private void progress(String runId, long sequence, java.util.function.Function<RunProgressView, TaskCounts> change) {
        views.progress(runId).filter(progress -> progress.sequence() < sequence).ifPresent(progress ->
                views.putProgress(runId, new RunProgressView(sequence, progress.rerun(), change.apply(progress))));
    }

    private void updateTask(TaskRunId id, long sequence, UnaryOperator<TaskView> change) {
        String runId = id.runId().value();
        TaskView current = views.task(runId, id.taskId()).orElse(RunViews.pendingTask(id.taskId()));
        if (current.sequence() >= sequence) {
            return; // applied before
        }
        views.putTask(runId, change.apply(current));
    }
}
