package io.dagy.projection.deployment;

import io.dagy.contracts.deployment.DeploymentQueries.DeploymentView;
import org.axonframework.serialization.Serializer;
import io.dagy.eventstore.tx.DynamoWrites;
import io.dagy.eventstore.views.ViewItems;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.Map;
import java.util.Optional;

/**
 * Reading the deployment views back; shared by the projection (settings changes, where an earlier event of the same
 * batch may have written the view in the open transaction) and the query side.
 */
public final class DeploymentViews {

    private DeploymentViews() {
    }

    public static Optional<DeploymentView> read(DynamoDbClient dynamoDb, String table, Serializer serializer, String name) {
        return DynamoWrites.get(dynamoDb, table,
                        Map.of("pk", AttributeValue.fromS(DeploymentViewProjection.PARTITION), "sk", AttributeValue.fromS(name)))
                .map(item -> ViewItems.view(item, serializer));
    }

    static void deleteAll(DynamoDbClient dynamoDb, String table) {
        dynamoDb.queryPaginator(b -> b.tableName(table).keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(DeploymentViewProjection.PARTITION))))
                .items().forEach(item -> dynamoDb.deleteItem(b -> b.tableName(table)
                        .key(Map.of("pk", item.get("pk"), "sk", item.get("sk")))));
    }
}
