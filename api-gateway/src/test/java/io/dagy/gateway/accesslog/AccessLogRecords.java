package io.dagy.gateway.accesslog;

import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.util.Map;

import static org.awaitility.Awaitility.await;

/** Finds a request's record in an application's access log, waiting for the background writer. */
public final class AccessLogRecords {

    private AccessLogRecords() {
    }

    public static Map<String, AttributeValue> awaitRecord(DynamoDbClient dynamoDb, DagyResources resources,
                                                          String requestId) {
        String table = resources.table(DagyTable.ACCESS_LOGS);
        return await().atMost(Duration.ofSeconds(20)).until(() -> dynamoDb.scanPaginator(b -> b.tableName(table)
                        .consistentRead(true)
                        .filterExpression("request_id = :id")
                        .expressionAttributeValues(Map.of(":id", AttributeValue.fromS(requestId))))
                .items().stream().findFirst().orElse(null), java.util.Objects::nonNull);
    }
}
