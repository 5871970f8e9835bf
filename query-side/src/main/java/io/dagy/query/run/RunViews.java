package io.dagy.query.run;

import io.dagy.contracts.run.RunQueries.RunProgressView;
import io.dagy.contracts.run.RunQueries.RunView;
import io.dagy.contracts.run.RunQueries.TaskView;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.eventstore.tx.DynamoWrites;
import io.dagy.eventstore.tx.OwnedItems;
import io.dagy.eventstore.views.ViewItems;
import io.dagy.eventstore.views.ViewKeys;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The run views in {@code DAGY_RUNS}, the one place that knows their items: the projection writes through it and the
 * query handler reads through it.
 *
 * <p>Partition {@code run#<id>} ({@link ViewKeys#run}) holds:
 * <ul>
 *   <li>{@code sk = run}: the header ({@link RunView}: deployment, status, times, the task ids in DAG order), rewritten
 *       when the run's status changes;</li>
 *   <li>{@code sk = summary}: the progress ({@link RunProgressView}: task counts, rerun number, last run event
 *       applied), rewritten by each decision of the run;</li>
 *   <li>{@code sk = task#<task id>}: one item per task that has left {@code PENDING} ({@link TaskView}, with the last
 *       task-run event applied).</li>
 * </ul>
 * Sort keys order as {@code run < summary < task#...}, so the header and the progress are one query of
 * {@code sk BETWEEN run AND summary}. Listing partitions ({@link ViewKeys#runListing}) hold a copy of the header per run,
 * sorted by {@code <started at>#<run id>}. Items use {@link ViewItems}' format.
 */
public final class RunViews {

    static final String HEADER = "run";
    static final String PROGRESS = "summary";
    private static final String TASK = "task#";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;

    private final OwnedItems owned;

    public RunViews(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this(dynamoDb, table, serializer, OwnedItems.NONE);
    }

    /**
     * @param owned what the projection's reads may answer from: the items of a run are written only by the segment of
     *              the run-views processor that handles the run (decision 88)
     */
    public RunViews(DynamoDbClient dynamoDb, String table, Serializer serializer, OwnedItems owned) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
        this.owned = owned;
    }

    String table() {
        return table;
    }

    // ------------------------------------------------------------------ writes (inside the processor's transaction)

    void putHeader(RunView run) {
        put(item(run.runId().value(), HEADER, run));
        String org = run.organization().value();
        for (String listing : List.of(ViewKeys.runListing(org, run.deployment().value()), ViewKeys.runListing(org, null))) {
            Map<String, AttributeValue> entry = ViewItems.item(listing, run.startedAt() + "#" + run.runId().value(), run,
                    serializer);
            entry.put("status", AttributeValue.fromS(run.status().name()));
            put(entry);
        }
    }

    void putProgress(String runId, RunProgressView progress) {
        put(item(runId, PROGRESS, progress));
    }

    void putTask(String runId, TaskView task) {
        put(taskItem(runId, task));
    }

    /** Many task items: a few join the transaction, a fan-out is written at once (idempotent: same event, same items). */
    void putTasks(String runId, List<TaskView> tasks) {
        List<Map<String, AttributeValue>> items = tasks.stream().map(task -> taskItem(runId, task)).toList();
        DynamoWrites.putMany(dynamoDb, table, items, ViewItems::key, owned);
    }

    private void put(Map<String, AttributeValue> item) {
        DynamoWrites.put(dynamoDb, table, item, ViewItems.key(item), owned);
    }

    /** Every item of the table: the run views are all it holds (a reset before a rebuild). */
    void deleteAll() {
        owned.clear();
        List<WriteRequest> batch = new ArrayList<>();
        for (Map<String, AttributeValue> item : dynamoDb.scanPaginator(b -> b.tableName(table).consistentRead(true)
                .projectionExpression("pk, sk")).items()) {
            batch.add(WriteRequest.builder().deleteRequest(d -> d.key(Map.of("pk", item.get("pk"), "sk", item.get("sk"))))
                    .build());
            if (batch.size() == 25) {
                writeBatch(batch);
                batch = new ArrayList<>();
            }
        }
        if (!batch.isEmpty()) {
            writeBatch(batch);
        }
    }

    private void writeBatch(List<WriteRequest> batch) {
        Map<String, List<WriteRequest>> pending = Map.of(table, batch);
        while (!pending.isEmpty()) {
            var request = pending;
            var response = dynamoDb.batchWriteItem(b -> b.requestItems(request));
            pending = response.hasUnprocessedItems() ? response.unprocessedItems() : Map.of();
        }
    }

    // ------------------------------------------------------------------ reads for the projection (see the open transaction)

    Optional<RunView> header(String runId) {
        return read(runId, HEADER);
    }

    Optional<RunProgressView> progress(String runId) {
        return read(runId, PROGRESS);
    }

    Optional<TaskView> task(String runId, String taskId) {
        return read(runId, TASK + taskId);
    }

    private <T> Optional<T> read(String runId, String sortKey) {
        return DynamoWrites.get(dynamoDb, table, key(runId, sortKey), owned).map(item -> ViewItems.view(item, serializer));
    }

    // ------------------------------------------------------------------ reads for queries (consistent, outside transactions)

    /** The header and the progress (null for a run projected before progress existed): one query. */
    Optional<HeaderAndProgress> headerAndProgress(String runId) {
        RunView header = null;
        RunProgressView progress = null;
        for (Map<String, AttributeValue> item : dynamoDb.query(b -> b.tableName(table).consistentRead(true)
                .keyConditionExpression("pk = :pk AND sk BETWEEN :run AND :summary")
                .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(ViewKeys.run(runId)),
                        ":run", AttributeValue.fromS(HEADER), ":summary", AttributeValue.fromS(PROGRESS)))).items()) {
            Object view = ViewItems.view(item, serializer);
            if (view instanceof RunView run) {
                header = run;
            } else if (view instanceof RunProgressView summary) {
                progress = summary;
            }
        }
        return header == null ? Optional.empty() : Optional.of(new HeaderAndProgress(header, progress));
    }

    record HeaderAndProgress(RunView run, RunProgressView progress) {
    }

    /** The views of these tasks, in the order given; a task without an item is {@code PENDING}. */
    List<TaskView> tasks(String runId, List<String> taskIds) {
        Map<String, TaskView> found = new HashMap<>();
        for (int from = 0; from < taskIds.size(); from += 100) {
            List<Map<String, AttributeValue>> keys = taskIds.subList(from, Math.min(taskIds.size(), from + 100)).stream()
                    .map(id -> key(runId, TASK + id)).toList();
            Map<String, KeysAndAttributes> pending = Map.of(table, KeysAndAttributes.builder().keys(keys)
                    .consistentRead(true).build());
            while (!pending.isEmpty()) {
                var request = pending;
                var response = dynamoDb.batchGetItem(b -> b.requestItems(request));
                response.responses().getOrDefault(table, List.of()).forEach(item -> {
                    TaskView task = ViewItems.view(item, serializer);
                    found.put(task.taskId(), task);
                });
                pending = response.hasUnprocessedKeys() ? response.unprocessedKeys() : Map.of();
            }
        }
        return taskIds.stream().map(id -> found.getOrDefault(id, pendingTask(id))).toList();
    }

    static TaskView pendingTask(String taskId) {
        return new TaskView(taskId, TaskStatus.PENDING, List.of(), -1);
    }

    // ------------------------------------------------------------------ keys and codec

    private Map<String, AttributeValue> taskItem(String runId, TaskView task) {
        return item(runId, TASK + task.taskId(), task);
    }

    private Map<String, AttributeValue> item(String runId, String sortKey, Object view) {
        return ViewItems.item(ViewKeys.run(runId), sortKey, view, serializer);
    }

    private static Map<String, AttributeValue> key(String runId, String sortKey) {
        return Map.of("pk", AttributeValue.fromS(ViewKeys.run(runId)), "sk", AttributeValue.fromS(sortKey));
    }
}
