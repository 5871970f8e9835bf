package io.dagy.query.run;

import io.dagy.contracts.run.RunQueries.FindRun;
import io.dagy.contracts.run.RunQueries.RunDetails;
import io.dagy.contracts.run.RunQueries.RunView;
import io.dagy.contracts.run.RunQueries.TaskView;
import io.dagy.contracts.run.TaskStatus;
import org.axonframework.queryhandling.QueryHandler;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedObject;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

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

    @QueryHandler
    Optional<RunDetails> handle(FindRun query) {
        RunView run = null;
        Map<String, TaskView> tasks = new HashMap<>();
        for (Map<String, AttributeValue> item : dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true)
                .keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("run#" + query.runId().value())))).items()) {
            Object view = serializer.deserialize(new SimpleSerializedObject<>(item.get("view").b().asByteArray(),
                    byte[].class, item.get("view_type").s(), null));
            if (view instanceof RunView header) {
                run = header;
            } else if (view instanceof TaskView task) {
                tasks.put(task.taskId(), task);
            }
        }
        if (run == null) {
            return Optional.empty();
        }
        List<TaskView> ordered = run.taskIds().stream()
                .map(id -> tasks.getOrDefault(id, new TaskView(id, TaskStatus.PENDING, List.of(), -1)))
                .toList();
        return Optional.of(new RunDetails(run, ordered));
    }
}
