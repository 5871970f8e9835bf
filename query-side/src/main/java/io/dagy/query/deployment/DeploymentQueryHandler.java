package io.dagy.query.deployment;

import io.dagy.contracts.deployment.DeploymentQueries.DeploymentPage;
import io.dagy.contracts.deployment.DeploymentQueries.DeploymentView;
import io.dagy.contracts.deployment.DeploymentQueries.FindDeployment;
import io.dagy.contracts.deployment.DeploymentQueries.ListDeployments;
import io.dagy.query.paging.PageCursor;
import org.axonframework.queryhandling.QueryHandler;
import org.axonframework.serialization.Serializer;
import io.dagy.eventstore.views.ViewItems;
import io.dagy.eventstore.views.ViewKeys;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Answers deployment queries from the {@code deployment-views} projection in {@code DAGY_DEPLOYMENTS}. */
public class DeploymentQueryHandler {

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;

    public DeploymentQueryHandler(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
    }

    @QueryHandler
    Optional<DeploymentView> handle(FindDeployment query) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(Map.of(
                "pk", AttributeValue.fromS(ViewKeys.deployments(query.organization().value())),
                "sk", AttributeValue.fromS(query.name().value())))).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(ViewItems.view(item, serializer));
    }

    @QueryHandler
    DeploymentPage handle(ListDeployments query) {
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":pk",
                AttributeValue.fromS(ViewKeys.deployments(query.organization().value()))));
        String condition = "pk = :pk";
        if (query.after() != null) {
            String after = PageCursor.DEPLOYMENTS.decode(query.after())
                    .orElseThrow(() -> new IllegalArgumentException("not a cursor of the deployment listing"));
            condition += " AND sk > :after";
            values.put(":after", AttributeValue.fromS(after));
        }
        var response = dynamoDb.query(QueryRequest.builder().tableName(table).keyConditionExpression(condition)
                .expressionAttributeValues(values).limit(query.limit()).build());
        List<DeploymentView> views = response.items().stream()
                .map(item -> ViewItems.<DeploymentView>view(item, serializer)).toList();
        String next = response.hasLastEvaluatedKey() && !views.isEmpty()
                ? PageCursor.DEPLOYMENTS.encode(views.get(views.size() - 1).name().value()) : null;
        return new DeploymentPage(views, next);
    }
}
