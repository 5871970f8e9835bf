package io.dagy.gateway.billing;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the Stripe webhook has seen, in {@code DAGY_SUBSCRIPTIONS}: the event ids handled
 * ({@code pk = "stripe-event#<id>"}, {@code sk = "delivery"}, recorded only after their command succeeded, so a crash
 * in between makes Stripe's retry run the idempotent command again) and installation-wide counts of deliveries that
 * changed nothing by design ({@code pk = "stripe-webhook-counts"}, {@code sk = <outcome>#<event type>}): unknown
 * types and events naming no organization of ours. Counts are {@code ADD}s, right across nodes.
 */
final class WebhookLedger {

    static final String COUNTS = "stripe-webhook-counts";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Clock clock;

    WebhookLedger(DynamoDbClient dynamoDb, String table, Clock clock) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.clock = clock;
    }

    boolean handled(String eventId) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(key(eventId))
                .projectionExpression("pk")).item();
        return item != null && !item.isEmpty();
    }

    void record(String eventId, String type) {
        Map<String, AttributeValue> item = new HashMap<>(key(eventId));
        item.put("event_type", AttributeValue.fromS(type));
        item.put("recorded_at", AttributeValue.fromS(clock.instant().toString()));
        try {
            dynamoDb.putItem(b -> b.tableName(table).item(item).conditionExpression("attribute_not_exists(pk)"));
        } catch (ConditionalCheckFailedException concurrent) {
            // another node handled a concurrent delivery of the same event: both ran the same idempotent command
        }
    }

    void count(String outcome, String type) {
        dynamoDb.updateItem(b -> b.tableName(table)
                .key(Map.of("pk", AttributeValue.fromS(COUNTS), "sk", AttributeValue.fromS(outcome + "#" + type)))
                .updateExpression("ADD n :one")
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))));
    }

    /** Every count, {@code <outcome>#<type>} to number. */
    Map<String, Long> counts() {
        Map<String, Long> counts = new TreeMap<>();
        dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true).keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(COUNTS))))
                .items().forEach(item -> counts.put(item.get("sk").s(), Long.parseLong(item.get("n").n())));
        return counts;
    }

    private static Map<String, AttributeValue> key(String eventId) {
        return Map.of("pk", AttributeValue.fromS("stripe-event#" + eventId), "sk", AttributeValue.fromS("delivery"));
    }
}
