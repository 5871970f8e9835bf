package io.dagy.projection.billing;

import io.dagy.contracts.billing.SubscriptionEvents.CheckoutCompleted;
import io.dagy.contracts.billing.SubscriptionEvents.SubscriptionChanged;
import io.dagy.contracts.billing.SubscriptionView;
import io.dagy.contracts.identity.OrgId;
import io.dagy.eventstore.tx.DynamoWrites;
import io.dagy.eventstore.views.ViewItems;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.HashMap;
import java.util.Map;

/**
 * The subscriptions of {@code DAGY_SUBSCRIPTIONS} (docs/billing.md): per organization one item
 * {@code pk = "subscription#<org>"}, {@code sk = "current"} holding the {@link SubscriptionView}, the sequence number
 * of the subscription event applied last ({@code seq}; an event at or below it is skipped) and the customer id; and
 * per Stripe customer {@code pk = "customer#<id>"}, {@code sk = "org"} naming its organization, for webhook
 * deliveries that name only the customer.
 */
@ProcessingGroup(SubscriptionProjection.PROCESSING_GROUP)
public class SubscriptionProjection {

    public static final String PROCESSING_GROUP = "subscription-views";
    static final String SUBSCRIPTION_PREFIX = "subscription#";
    static final String CUSTOMER_PREFIX = "customer#";
    static final String CURRENT = "current";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;

    public SubscriptionProjection(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
    }

    static Map<String, AttributeValue> key(OrgId org) {
        return Map.of("pk", AttributeValue.fromS(SUBSCRIPTION_PREFIX + org.value()), "sk", AttributeValue.fromS(CURRENT));
    }

    static Map<String, AttributeValue> customerKey(String customerId) {
        return Map.of("pk", AttributeValue.fromS(CUSTOMER_PREFIX + customerId), "sk", AttributeValue.fromS("org"));
    }

    @EventHandler
    void on(SubscriptionChanged event, @SequenceNumber long sequence) {
        var stored = DynamoWrites.get(dynamoDb, table, key(event.organization()));
        if (stored.filter(item -> item.containsKey("seq") && Long.parseLong(item.get("seq").n()) >= sequence).isPresent()) {
            return;
        }
        write(new SubscriptionView(event.organization(), event.subscriptionId(), event.customerId(), event.plan(),
                event.status(), event.periodStart(), event.periodEnd(), event.cancelAtPeriodEnd(), event.pastDueSince(),
                event.stripeVersion()), sequence);
        linkCustomer(event.organization(), event.customerId());
    }

    @EventHandler
    void on(CheckoutCompleted event, @SequenceNumber long sequence) {
        var stored = DynamoWrites.get(dynamoDb, table, key(event.organization()));
        if (stored.filter(item -> item.containsKey("seq") && Long.parseLong(item.get("seq").n()) >= sequence).isPresent()) {
            return;
        }
        SubscriptionView current = stored.<SubscriptionView>map(item -> ViewItems.view(item, serializer))
                .orElse(SubscriptionView.none(event.organization()));
        write(new SubscriptionView(current.organization(),
                current.subscriptionId() != null ? current.subscriptionId() : event.subscriptionId(), event.customerId(),
                current.plan(), current.status(), current.periodStart(), current.periodEnd(),
                current.cancelAtPeriodEnd(), current.pastDueSince(), current.stripeVersion()), sequence);
        linkCustomer(event.organization(), event.customerId());
    }

    private void write(SubscriptionView view, long sequence) {
        Map<String, AttributeValue> item = ViewItems.item(SUBSCRIPTION_PREFIX + view.organization().value(), CURRENT,
                view, serializer);
        item.put("seq", AttributeValue.fromN(Long.toString(sequence)));
        item.put("effective_plan", AttributeValue.fromS(view.effectivePlan().code()));
        if (view.customerId() != null) {
            item.put("customer_id", AttributeValue.fromS(view.customerId()));
        }
        DynamoWrites.put(dynamoDb, table, item, ViewItems.key(item));
    }

    private void linkCustomer(OrgId org, String customerId) {
        if (customerId == null) {
            return;
        }
        Map<String, AttributeValue> item = new HashMap<>(customerKey(customerId));
        item.put("org", AttributeValue.fromS(org.value()));
        DynamoWrites.put(dynamoDb, table, item, customerKey(customerId));
    }

    @ResetHandler
    void reset() {
        for (String prefix : new String[]{SUBSCRIPTION_PREFIX, CUSTOMER_PREFIX}) {
            dynamoDb.scanPaginator(b -> b.tableName(table)
                            .filterExpression("begins_with(pk, :prefix)")
                            .expressionAttributeValues(Map.of(":prefix", AttributeValue.fromS(prefix)))
                            .projectionExpression("pk, sk"))
                    .items().forEach(item -> dynamoDb.deleteItem(b -> b.tableName(table)
                            .key(Map.of("pk", item.get("pk"), "sk", item.get("sk")))));
        }
    }
}
