package io.dagy.projection.deployment;

import io.dagy.contracts.deployment.DeploymentQueries.DeploymentView;
import org.axonframework.serialization.Serializer;
import io.dagy.eventstore.views.ViewItems;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.Map;
import java.util.Optional;

/** Reading the deployment views back; shared by the projection (settings changes) and the query side. */
public final class DeploymentViews {

    private DeploymentViews() {
    }

    public static Optional<DeploymentView> read(DynamoDbClient dynamoDb, String table, Serializer serializer, String name) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS(DeploymentViewProjection.PARTITION), "sk", AttributeValue.fromS(name))))
                .item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(ViewItems.view(item, serializer));
    }

    static void deleteAll(DynamoDbClient dynamoDb, String table) {
        dynamoDb.queryPaginator(b -> b.tableName(table).keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(DeploymentViewProjection.PARTITION))))
                .items().forEach(item -> dynamoDb.deleteItem(b -> b.tableName(table)
                        .key(Map.of("pk", item.get("pk"), "sk", item.get("sk")))));
    }
}
