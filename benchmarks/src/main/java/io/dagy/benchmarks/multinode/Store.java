package io.dagy.benchmarks.multinode;

import io.dagy.localstack.LocalAwsClients;
import io.dagy.tables.DagyTable;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** What the harness reads straight from the shared DynamoDB Local: the tables every node writes. */
final class Store implements AutoCloseable {

    private final DynamoDbClient dynamoDb;
    private final String environment;

    Store(int dynamoDbPort, String environment) {
        this.dynamoDb = LocalAwsClients.dynamoDb(URI.create("http://127.0.0.1:" + dynamoDbPort));
        this.environment = environment;
    }

    private String table(DagyTable table) {
        return table.defaultName(environment);
    }

    /** Owner of each segment per processor ({@code -} when unclaimed), from the token items. */
    Map<String, Map<Integer, String>> owners() {
        Map<String, Map<Integer, String>> owners = new TreeMap<>();
        scan(DagyTable.TOKENS, null).forEach(item -> {
            String processor = item.get("pk").s();
            if (processor.equals("nodes")) {
                return;
            }
            AttributeValue owner = item.get("owner");
            owners.computeIfAbsent(processor, p -> new TreeMap<>()).put(Integer.parseInt(item.get("sk").n()),
                    owner == null || owner.s() == null || owner.s().isEmpty() ? "-" : owner.s());
        });
        return owners;
    }

    /** The effect counters of {@link EffectCounting}: {@code <aggregate id>#<sequence>} to count and nodes. */
    Map<String, Effect> effects() {
        Map<String, Effect> effects = new HashMap<>();
        scan(DagyTable.TASK_RUNS, EffectCounting.PREFIX).forEach(item -> effects.put(
                item.get("pk").s().substring(EffectCounting.PREFIX.length()) + "#" + item.get("sk").s(),
                new Effect(Integer.parseInt(item.get("n").n()), item.get("nodes").ss())));
        return effects;
    }

    record Effect(int count, List<String> nodes) {
    }

    /** Every domain event in the events table: {@code <aggregate id>#<sequence>} to its payload type. */
    Map<String, String> domainEvents() {
        Map<String, String> events = new HashMap<>();
        scan(DagyTable.EVENTS, "agg#").forEach(item -> events.put(
                item.get("pk").s().substring("agg#".length()) + "#" + item.get("sk").n(), item.get("pt").s()));
        return events;
    }

    /** Items of a table by the part of their partition key before the first {@code #} (or all of it). */
    Map<String, Integer> itemKinds(DagyTable table) {
        Map<String, Integer> kinds = new TreeMap<>();
        scan(table, null).forEach(item -> {
            String pk = item.get("pk").s();
            int hash = pk.indexOf('#');
            kinds.merge(hash < 0 ? pk : pk.substring(0, hash + 1), 1, Integer::sum);
        });
        return kinds;
    }

    private Stream<Map<String, AttributeValue>> scan(DagyTable table, String prefix) {
        return dynamoDb.scanPaginator(b -> {
            b.tableName(table(table)).consistentRead(true);
            if (prefix != null) {
                b.filterExpression("begins_with(pk, :prefix)")
                        .expressionAttributeValues(Map.of(":prefix", AttributeValue.fromS(prefix)));
            }
        }).items().stream();
    }

    @Override
    public void close() {
        dynamoDb.close();
    }
}
