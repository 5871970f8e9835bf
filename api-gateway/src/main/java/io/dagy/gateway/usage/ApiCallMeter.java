package io.dagy.gateway.usage;

import io.dagy.projection.usage.UsageAggregates;
import io.dagy.projection.usage.UsageAggregates.Granularity;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * API calls per organization and period: counted from the access log's records as they are written (one batch at a
 * time), added with {@code ADD} to items of their own ({@code pk = api#<org>#<granularity>}, beside the projection's
 * totals, which a replay rebuilds from events; API calls are no events). A batch's additions go in one
 * {@code TransactWriteItems} with a client request token, so the SDK's retry of a call whose answer was lost does
 * not count twice. Calls are counted once their access-log record is written; records the access log drops under
 * overload are not counted (it warns).
 */
public final class ApiCallMeter {

    public static final String METRIC = "api_calls";

    private final DynamoDbClient dynamoDb;
    private final String table;

    public ApiCallMeter(DynamoDbClient dynamoDb, String table) {
        this.dynamoDb = dynamoDb;
        this.table = table;
    }

    /** Counts one call per instant, per organization. */
    public void count(Map<String, List<Instant>> callsByOrg) {
        Map<Map<String, AttributeValue>, Long> counts = new TreeMap<>((a, b) ->
                (a.get("pk").s() + "\n" + a.get("sk").s()).compareTo(b.get("pk").s() + "\n" + b.get("sk").s()));
        callsByOrg.forEach((org, calls) -> calls.forEach(at -> {
            for (Granularity granularity : Granularity.values()) {
                counts.merge(key(org, granularity, granularity.periodOf(at)), 1L, Long::sum);
            }
        }));
        List<TransactWriteItem> updates = new ArrayList<>();
        counts.forEach((key, count) -> updates.add(TransactWriteItem.builder().update(Update.builder().tableName(table)
                .key(key).updateExpression("ADD " + METRIC + " :n")
                .expressionAttributeValues(Map.of(":n", AttributeValue.fromN(Long.toString(count)))).build()).build()));
        for (int from = 0; from < updates.size(); from += 100) {
            List<TransactWriteItem> part = updates.subList(from, Math.min(updates.size(), from + 100));
            String token = UUID.randomUUID().toString();
            dynamoDb.transactWriteItems(b -> b.transactItems(part).clientRequestToken(token));
        }
    }

    /** The organization's API calls per period of a granularity, from {@code from} to {@code to} (both included). */
    public Map<String, Long> periods(String org, Granularity granularity, Instant from, Instant to) {
        Map<String, Long> periods = new TreeMap<>();
        Map<String, AttributeValue> start = null;
        do {
            var query = software.amazon.awssdk.services.dynamodb.model.QueryRequest.builder().tableName(table)
                    .consistentRead(true).keyConditionExpression("pk = :pk AND sk BETWEEN :from AND :to")
                    .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(partition(org, granularity)),
                            ":from", AttributeValue.fromS(granularity.periodOf(from)),
                            ":to", AttributeValue.fromS(granularity.periodOf(to))));
            if (start != null) {
                query.exclusiveStartKey(start);
            }
            var response = dynamoDb.query(query.build());
            response.items().forEach(item -> periods.put(item.get("sk").s(), Long.parseLong(item.get(METRIC).n())));
            start = response.hasLastEvaluatedKey() && !response.lastEvaluatedKey().isEmpty() ? response.lastEvaluatedKey() : null;
        } while (start != null);
        return periods;
    }

    private static String partition(String org, Granularity granularity) {
        return "api#" + org + "#" + granularity.code();
    }

    private static Map<String, AttributeValue> key(String org, Granularity granularity, String period) {
        return Map.of("pk", AttributeValue.fromS(partition(org, granularity)), "sk", AttributeValue.fromS(period));
    }

    static UsageAggregates.Granularity granularity(String code) {
        return Granularity.valueOf(code.toUpperCase(java.util.Locale.ROOT));
    }
}
