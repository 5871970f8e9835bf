package io.dagy.gateway.clerk;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.time.Clock;
import java.util.Map;

/**
 * The webhook deliveries every node has processed, by {@code svix-id}, in {@code DAGY_USERS}:
 * {@code pk = "clerk-delivery#<svix-id>"}, {@code sk = "delivery"}, with the event type and when it was recorded (no
 * personal data). An id is recorded only after its commands succeeded, so a crash in between means the provider's
 * retry runs the (idempotent) commands again rather than losing the event.
 */
final class ClerkDeliveries {

    static final String PARTITION_PREFIX = "clerk-delivery#";
    private static final String SORT_KEY = "delivery";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Clock clock;

    ClerkDeliveries(DynamoDbClient dynamoDb, String table, Clock clock) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.clock = clock;
    }

    /** A consistent read: an id recorded on any node is seen here. */
    boolean processed(String svixId) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(key(svixId))
                .projectionExpression("pk")).item();
        return item != null && !item.isEmpty();
    }

    /**
     * Records the id. If another node recorded it meanwhile (the provider retried while the first attempt was still
     * running), the first record stays and this is no error: both ran the same idempotent commands.
     */
    void record(String svixId, String eventType) {
        Map<String, AttributeValue> item = new java.util.HashMap<>(key(svixId));
        item.put("event_type", AttributeValue.fromS(eventType));
        item.put("recorded_at", AttributeValue.fromS(clock.instant().toString()));
        try {
            dynamoDb.putItem(b -> b.tableName(table).item(item).conditionExpression("attribute_not_exists(pk)"));
        } catch (ConditionalCheckFailedException alreadyRecorded) {
            // recorded by a concurrent delivery of the same message
        }
    }

    private static Map<String, AttributeValue> key(String svixId) {
        return Map.of("pk", AttributeValue.fromS(PARTITION_PREFIX + svixId), "sk", AttributeValue.fromS(SORT_KEY));
    }
}
