package io.dagy.gateway.web;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * The deliveries of one webhook that every node has processed, by the provider's delivery id: one item each,
 * {@code pk = <prefix><id>}, {@code sk = "delivery"}, with the event type and when it was recorded (no payload, no
 * personal data). A delivery is recorded only after its commands succeeded, so a crash in between means the
 * provider's retry runs the (idempotent) commands again rather than losing the event. Shared by the Clerk and Stripe
 * webhooks, each with its table and prefix.
 */
public final class WebhookDeliveries {

    private static final String SORT_KEY = "delivery";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final String prefix;
    private final Clock clock;

    public WebhookDeliveries(DynamoDbClient dynamoDb, String table, String prefix, Clock clock) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.prefix = prefix;
        this.clock = clock;
    }

    /** A consistent read: a delivery recorded on any node is seen here. */
    public boolean processed(String deliveryId) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(key(deliveryId))
                .projectionExpression("pk")).item();
        return item != null && !item.isEmpty();
    }

    /**
     * Records the delivery. If another node recorded it meanwhile (the provider retried while the first attempt was
     * still running), the first record stays and this is no error: both ran the same idempotent commands.
     */
    public void record(String deliveryId, String eventType) {
        Map<String, AttributeValue> item = new HashMap<>(key(deliveryId));
        item.put("event_type", AttributeValue.fromS(eventType));
        item.put("recorded_at", AttributeValue.fromS(clock.instant().toString()));
        try {
            dynamoDb.putItem(b -> b.tableName(table).item(item).conditionExpression("attribute_not_exists(pk)"));
        } catch (ConditionalCheckFailedException alreadyRecorded) {
            // recorded by a concurrent delivery of the same event
        }
    }

    private Map<String, AttributeValue> key(String deliveryId) {
        return Map.of("pk", AttributeValue.fromS(prefix + deliveryId), "sk", AttributeValue.fromS(SORT_KEY));
    }
}
