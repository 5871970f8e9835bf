package io.dagy.query.schedule;

import io.dagy.contracts.schedule.ScheduleQueries.ListSchedules;
import io.dagy.contracts.schedule.ScheduleQueries.ScheduleList;
import io.dagy.contracts.schedule.ScheduleQueries.ScheduleSummary;
import io.dagy.eventstore.views.ViewItems;
import io.dagy.eventstore.views.ViewKeys;
import org.axonframework.queryhandling.QueryHandler;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;

import java.util.List;
import java.util.Map;

/** Answers schedule listings from the {@code schedule-views} projection in {@code DAGY_SCHEDULES}. */
public class ScheduleQueryHandler {

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;

    public ScheduleQueryHandler(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
    }

    @QueryHandler
    ScheduleList handle(ListSchedules query) {
        QueryRequest request = QueryRequest.builder().tableName(table).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(ViewKeys.schedules(
                        query.organization().value(), query.deployment().value()))))
                .consistentRead(true).build();
        List<ScheduleSummary> items = dynamoDb.queryPaginator(request).items().stream()
                .filter(item -> !item.containsKey("deleted"))
                .map(item -> ViewItems.<ScheduleSummary>view(item, serializer)).toList();
        return new ScheduleList(items);
    }
}
