package io.dagy.projection.run;

import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.run.RunEvents.TasksNotRun;
import io.dagy.contracts.run.RunQueries.AttemptView;
import io.dagy.contracts.run.RunQueries.RunView;
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
import io.dagy.eventstore.tx.DynamoWrites;
import io.dagy.eventstore.views.ViewItems;
import io.dagy.eventstore.views.ViewKeys;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ReplayStatus;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Run views in {@code DAGY_RUNS}: partition {@code run#<id>} holds the run item ({@code sk = run}) and one item per
 * task ({@code sk = task#<id>}), so a run with its tasks is one query and each event rewrites one item. Every change
 * of a run also rewrites its organization's listing entries ({@link ViewKeys#runListing}), of its deployment and of
 * all runs, sorted by start time, so
 * listing runs (newest first) is one query. Task items
 * remember the sequence number of the last task-run event applied and skip older ones, so redelivery is harmless.
 */
@ProcessingGroup(RunViewProjection.PROCESSING_GROUP)
public class RunViewProjection {

    public static final String PROCESSING_GROUP = "run-views";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;
    private final RunObserver observer;

    public RunViewProjection(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this(dynamoDb, table, serializer, RunObserver.NONE);
    }

    public RunViewProjection(DynamoDbClient dynamoDb, String table, Serializer serializer, RunObserver observer) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
        this.observer = observer;
    }

    @EventHandler
    void on(RunStarted event, @Timestamp Instant at, ReplayStatus replay) {
        RunView run = new RunView(event.runId(), event.organization(), event.deployment(), event.version(),
                RunStatus.RUNNING, at, null, event.dag().tasks().stream().map(task -> task.id()).toList());
        writeRun(run);
        if (!replay.isReplay()) {
            observer.runStarted(run);
        }
    }

    @EventHandler
    void on(RunFinished event, @Timestamp Instant at, ReplayStatus replay) {
        readRun(event.runId().value()).ifPresent(run -> {
            RunView finished = new RunView(run.runId(), run.organization(), run.deployment(), run.version(),
                    event.status(), run.startedAt(), at, run.taskIds());
            writeRun(finished);
            if (!replay.isReplay()) {
                observer.runFinished(finished);
            }
        });
    }

    @EventHandler
    void on(io.dagy.contracts.run.RunEvents.RunRerunStarted event) {
        readRun(event.runId().value()).ifPresent(run -> writeRun(new RunView(run.runId(), run.organization(), run.deployment(),
                run.version(), RunStatus.RUNNING, run.startedAt(), null, run.taskIds())));
    }

    @EventHandler
    void on(io.dagy.contracts.run.RunEvents.RunCancelling event) {
        readRun(event.runId().value()).ifPresent(run -> writeRun(new RunView(run.runId(), run.organization(), run.deployment(),
                run.version(), RunStatus.CANCELLING, run.startedAt(), null, run.taskIds())));
    }

    /** Tasks that will never run get their final state at once; a fan-out may hold thousands. */
    @EventHandler
    void on(TasksNotRun event) {
        List<Map<String, AttributeValue>> items = new ArrayList<>();
        event.outcomes().forEach((taskId, status) ->
                items.add(taskItem(event.runId().value(), new TaskView(taskId, status, List.of(), 0))));
        DynamoWrites.putMany(dynamoDb, table, items, ViewItems::key);
    }

    @EventHandler
    void on(TaskQueued event, @SequenceNumber long sequence) {
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

    private void updateTask(TaskRunId id, long sequence, UnaryOperator<TaskView> change) {
        String runId = id.runId().value();
        TaskView current = read(runId, "task#" + id.taskId(), TaskView.class)
                .orElse(new TaskView(id.taskId(), TaskStatus.PENDING, List.of(), -1));
        if (current.sequence() >= sequence) {
            return; // applied before
        }
        Map<String, AttributeValue> item = taskItem(runId, change.apply(current));
        DynamoWrites.put(dynamoDb, table, item, ViewItems.key(item));
    }

    private Map<String, AttributeValue> taskItem(String runId, TaskView task) {
        return item(runId, "task#" + task.taskId(), task);
    }

    private void writeRun(RunView run) {
        Map<String, AttributeValue> item = item(run.runId().value(), "run", run);
        DynamoWrites.put(dynamoDb, table, item, ViewItems.key(item));
        String org = run.organization().value();
        for (String listing : List.of(ViewKeys.runListing(org, run.deployment().value()), ViewKeys.runListing(org, null))) {
            Map<String, AttributeValue> entry = ViewItems.item(listing, run.startedAt() + "#" + run.runId().value(), run,
                    serializer);
            entry.put("status", AttributeValue.fromS(run.status().name()));
            DynamoWrites.put(dynamoDb, table, entry, ViewItems.key(entry));
        }
    }

    private Optional<RunView> readRun(String runId) {
        return read(runId, "run", RunView.class);
    }

    private Map<String, AttributeValue> item(String runId, String sortKey, Object view) {
        return ViewItems.item(partition(runId), sortKey, view, serializer);
    }

    private <T> Optional<T> read(String runId, String sortKey, Class<T> type) {
        return DynamoWrites.get(dynamoDb, table, Map.of("pk", AttributeValue.fromS(partition(runId)),
                        "sk", AttributeValue.fromS(sortKey)))
                .map(item -> type.cast(ViewItems.view(item, serializer)));
    }

    private static String partition(String runId) {
        return ViewKeys.run(runId);
    }
}
