package io.dagy.query.run;

import io.dagy.contracts.run.RunQueries.FindRun;
import io.dagy.contracts.run.RunQueries.ListRuns;
import io.dagy.contracts.run.RunQueries.RunPage;
import io.dagy.contracts.run.RunQueries.RunDetails;
import io.dagy.contracts.run.RunQueries.RunView;
import io.dagy.contracts.run.RunQueries.TaskView;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.query.paging.PageCursor;
import org.axonframework.queryhandling.QueryHandler;
import org.axonframework.serialization.Serializer;
import io.dagy.eventstore.views.ViewItems;
import io.dagy.eventstore.views.ViewKeys;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Answers run queries from the {@code run-views} projection in {@code DAGY_RUNS}: a run is one partition. */
public class RunQueryHandler {

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;

    public RunQueryHandler(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
    }

    /** Newest first; a status filter is applied to each page as read, so a page may hold fewer than the limit. */
    @QueryHandler
    RunPage handle(ListRuns query) {
        String partition = ViewKeys.runListing(query.organization().value(),
                query.deployment() == null ? null : query.deployment().value());
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":pk", AttributeValue.fromS(partition)));
        QueryRequest.Builder request = QueryRequest.builder().tableName(table).keyConditionExpression("pk = :pk")
                .scanIndexForward(false).limit(query.limit());
        if (query.status() != null) {
            request.filterExpression("#status = :status").expressionAttributeNames(Map.of("#status", "status"));
            values.put(":status", AttributeValue.fromS(query.status().name()));
        }
        if (query.cursor() != null) {
            String after = PageCursor.RUNS.decode(query.cursor())
                    .orElseThrow(() -> new IllegalArgumentException("not a cursor of the run listing"));
            request.exclusiveStartKey(Map.of("pk", AttributeValue.fromS(partition), "sk", AttributeValue.fromS(after)));
        }
        QueryResponse response = dynamoDb.query(request.expressionAttributeValues(values).build());
        List<RunView> runs = response.items().stream().map(item -> ViewItems.<RunView>view(item, serializer)).toList();
        String next = response.hasLastEvaluatedKey()
                ? PageCursor.RUNS.encode(response.lastEvaluatedKey().get("sk").s()) : null;
        return new RunPage(runs, next);
    }

    @QueryHandler
    Optional<RunDetails> handle(FindRun query) {
        RunView run = null;
        Map<String, TaskView> tasks = new HashMap<>();
        for (Map<String, AttributeValue> item : dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true)
                .keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(ViewKeys.run(query.runId().value()))))).items()) {
            Object view = ViewItems.view(item, serializer);
            if (view instanceof RunView header) {
                run = header;
            } else if (view instanceof TaskView task) {
                tasks.put(task.taskId(), task);
            }
        }
        if (run == null || !run.organization().equals(query.organization())) {
            return Optional.empty(); // another organization's run does not exist for the caller
        }
        List<TaskView> ordered = run.taskIds().stream()
                .map(id -> tasks.getOrDefault(id, new TaskView(id, TaskStatus.PENDING, List.of(), -1)))
                .toList();
        return Optional.of(new RunDetails(run, ordered));
    }
}
