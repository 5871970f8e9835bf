package io.dagy.benchmarks;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The yardstick for our appends: the same DynamoDB writes without the engine. Per event it puts a copy of the
 * engine's own stream item and aggregate item (same attributes, same bytes), each under
 * {@code attribute_not_exists(pk)}, all in one {@code TransactWriteItems}. Serialization, building Axon messages and
 * everything else the engine does on the client is not repeated.
 *
 * <p>With {@code withCounter}, it first reserves positions with the {@code UpdateItem ADD} the engine makes on its
 * shard's counter, so that it issues exactly the engine's two requests per append.
 */
final class RawTransactionWriter implements Workers.Operation {

    private static final String PK = "pk";
    private static final String SK = "sk";

    /**
     * Where and what the writers write.
     *
     * @param bucketSize positions per stream partition, as in the engine's settings
     */
    record Target(DynamoDbClient dynamoDb, String table, ItemTemplates templates, int bucketSize) {
    }

    private final Target target;
    private final int eventsPerAppend;
    private final String streamPrefix;
    private final String aggregateKey;
    private final Map<String, AttributeValue> counterKey;
    private long nextPosition = 1;
    private long nextSequence;

    private RawTransactionWriter(Target target, int eventsPerAppend, String streamPrefix, String aggregateKey,
                                 Map<String, AttributeValue> counterKey) {
        this.target = target;
        this.eventsPerAppend = eventsPerAppend;
        this.streamPrefix = streamPrefix;
        this.aggregateKey = aggregateKey;
        this.counterKey = counterKey;
    }

    /** Transactions only: each thread numbers positions in its own stream partition. */
    static RawTransactionWriter transactionOnly(Target target, int eventsPerAppend, int thread) {
        return new RawTransactionWriter(target, eventsPerAppend, "raw-stream#t" + thread + "#",
                "raw-agg#t" + thread, null);
    }

    /** A counter {@code ADD} then the transaction, the threads sharing {@code shards} counters as the engine's do. */
    static RawTransactionWriter withCounter(Target target, int eventsPerAppend, int thread, int shards) {
        int shard = thread % shards;
        return new RawTransactionWriter(target, eventsPerAppend, "raw-stream#s" + shard + "#",
                "raw-agg#t" + thread,
                Map.of(PK, AttributeValue.fromS("raw-counter#" + shard), SK, AttributeValue.fromN("0")));
    }

    @Override
    public void run() {
        long position = counterKey == null ? nextPosition : reservePositions();
        List<TransactWriteItem> items = new ArrayList<>(2 * eventsPerAppend);
        for (int i = 0; i < eventsPerAppend; i++, position++, nextSequence++) {
            items.add(putIfAbsent(target.templates().streamItem(), streamPrefix + position / target.bucketSize(),
                    position));
            items.add(putIfAbsent(target.templates().aggregateItem(), aggregateKey, nextSequence));
        }
        target.dynamoDb().transactWriteItems(b -> b.transactItems(items));
        nextPosition = position;
    }

    /** The first of {@code eventsPerAppend} new positions, as the engine reserves them. */
    private long reservePositions() {
        var response = target.dynamoDb().updateItem(b -> b.tableName(target.table()).key(counterKey)
                .updateExpression("ADD #next :count")
                .expressionAttributeNames(Map.of("#next", "next"))
                .expressionAttributeValues(Map.of(":count", AttributeValue.fromN(Integer.toString(eventsPerAppend))))
                .returnValues(ReturnValue.UPDATED_NEW));
        return Long.parseLong(response.attributes().get("next").n()) - eventsPerAppend + 1;
    }

    private TransactWriteItem putIfAbsent(Map<String, AttributeValue> template, String pk, long sk) {
        Map<String, AttributeValue> item = new HashMap<>(template);
        item.put(PK, AttributeValue.fromS(pk));
        item.put(SK, AttributeValue.fromN(Long.toString(sk)));
        return TransactWriteItem.builder().put(Put.builder().tableName(target.table()).item(item)
                .conditionExpression("attribute_not_exists(pk)").build()).build();
    }
}
