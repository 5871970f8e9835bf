package io.dagy.gateway.billing;

import io.dagy.gateway.web.WebhookDeliveries;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Clock;
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
    private final WebhookDeliveries handled;

    WebhookLedger(DynamoDbClient dynamoDb, String table, Clock clock) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.handled = new WebhookDeliveries(dynamoDb, table, "stripe-event#", clock);
    }

    boolean handled(String eventId) {
        return handled.processed(eventId);
    }

    /** Records a handled event; a concurrent delivery of it recorded on another node is no error. */
    void record(String eventId, String type) {
        handled.record(eventId, type);
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
}
