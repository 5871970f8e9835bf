package io.dagy.query.run;

import io.dagy.contracts.run.RunQueries.FindRun;
import io.dagy.contracts.run.RunQueries.ListRuns;
import io.dagy.contracts.run.RunQueries.RunPage;
import io.dagy.contracts.run.RunQueries.RunDetails;
import io.dagy.contracts.run.RunQueries.RunView;
import io.dagy.contracts.run.RunQueries.TaskView;
import io.dagy.contracts.run.RunQueries.ListRunTasks;
import io.dagy.contracts.run.RunQueries.TaskPage;
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

/** Answers run queries from the run views ({@link RunViews}, written by {@link RunViewProjection}). */
public class RunQueryHandler {

    /** Tasks in {@code GET /v1/runs/{id}}: the first page; the rest through {@link ListRunTasks}. */
    static final int FIRST_PAGE = 100;

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;
    private final RunViews views;

    public RunQueryHandler(RunViews views, DynamoDbClient dynamoDb, Serializer serializer) {
        this.views = views;
        this.dynamoDb = dynamoDb;
        this.table = views.table();
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

    /** The header, the counts and the first page of tasks: one query and one batch read, whatever the run's size. */
    @QueryHandler
    Optional<RunDetails> handle(FindRun query) {
        return views.headerAndProgress(query.runId().value())
                .filter(found -> found.run().organization().equals(query.organization())) // another organization's run does not exist for the caller
                .map(found -> {
                    TaskPage first = page(found.run(), 0, FIRST_PAGE);
                    return new RunDetails(found.run(), found.progress() == null ? null : found.progress().counts(),
                            first.items(), first.nextCursor());
                });
    }

    /** A page of the run's tasks in DAG order: the header (for the task ids) and one batch read. */
    @QueryHandler
    Optional<TaskPage> handle(ListRunTasks query) {
        int from = query.cursor() == null ? 0 : Integer.parseInt(PageCursor.RUN_TASKS.decode(query.cursor())
                .orElseThrow(() -> new IllegalArgumentException("not a cursor of a run's tasks")));
        return views.headerAndProgress(query.runId().value())
                .filter(found -> found.run().organization().equals(query.organization()))
                .map(found -> page(found.run(), from, query.limit()));
    }

    private TaskPage page(RunView run, int from, int limit) {
        List<String> ids = run.taskIds();
        int to = Math.min(ids.size(), from + limit);
        List<TaskView> tasks = from >= ids.size() ? List.of()
                : views.tasks(run.runId().value(), ids.subList(from, to));
        return new TaskPage(tasks, to < ids.size() ? PageCursor.RUN_TASKS.encode(Integer.toString(to)) : null);
    }
}
