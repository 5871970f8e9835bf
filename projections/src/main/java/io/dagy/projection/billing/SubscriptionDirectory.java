package io.dagy.projection.billing;

import io.dagy.contracts.billing.SubscriptionView;
import io.dagy.contracts.identity.OrgId;
import io.dagy.eventstore.views.ViewItems;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads what {@link SubscriptionProjection} wrote: an organization's subscription, a customer's organization. */
public class SubscriptionDirectory {

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;

    public SubscriptionDirectory(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
    }

    /** The organization's subscription; {@link SubscriptionView#none} if it never subscribed. */
    public SubscriptionView find(OrgId org) {
        var item = dynamoDb.getItem(b -> b.tableName(table).key(SubscriptionProjection.key(org))).item();
        if (item == null || item.isEmpty()) {
            return SubscriptionView.none(org);
        }
        return ViewItems.view(item, serializer);
    }

    /** The organization of a Stripe customer, once a subscription or checkout event of it was projected. */
    public Optional<OrgId> organizationOf(String customerId) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true)
                .key(SubscriptionProjection.customerKey(customerId))).item();
        if (item == null || !item.containsKey("org")) {
            return Optional.empty();
        }
        return Optional.of(new OrgId(item.get("org").s()));
    }

    /** Every organization with a Stripe customer (a scan of the subscription items: fine for thousands). */
    public List<SubscriptionView> withCustomers() {
        List<SubscriptionView> found = new ArrayList<>();
        dynamoDb.scanPaginator(b -> b.tableName(table)
                        .filterExpression("begins_with(pk, :prefix) AND attribute_exists(customer_id)")
                        .expressionAttributeValues(Map.of(":prefix",
                                AttributeValue.fromS(SubscriptionProjection.SUBSCRIPTION_PREFIX))))
                .items().forEach(item -> found.add(ViewItems.view(item, serializer)));
        return found;
    }
}
