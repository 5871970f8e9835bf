package io.dagy.projection.deployment;

import io.dagy.contracts.deployment.DeploymentQueries.DeploymentView;
import org.axonframework.serialization.Serializer;
import io.dagy.eventstore.tx.DynamoWrites;
import io.dagy.eventstore.views.ViewItems;
import io.dagy.eventstore.views.ViewKeys;
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

    public static Optional<DeploymentView> read(DynamoDbClient dynamoDb, String table, Serializer serializer, String org,
                                                String name) {
        return DynamoWrites.get(dynamoDb, table, key(org, name)).map(item -> ViewItems.view(item, serializer));
    }

    static Map<String, AttributeValue> key(String org, String name) {
        return Map.of("pk", AttributeValue.fromS(ViewKeys.deployments(org)), "sk", AttributeValue.fromS(name));
    }

    /** Every deployment view of every organization (a reset; the table holds nothing else). */
    static void deleteAll(DynamoDbClient dynamoDb, String table) {
        dynamoDb.scanPaginator(b -> b.tableName(table).consistentRead(true))
                .items().forEach(item -> dynamoDb.deleteItem(b -> b.tableName(table)
                        .key(Map.of("pk", item.get("pk"), "sk", item.get("sk")))));
    }
}
