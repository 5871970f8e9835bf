package io.dagy.eventstore.tx;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

import java.util.Map;
import java.util.Optional;

/** Writes for projections: inside the processor's transaction when one is open, else at once. */
public final class DynamoWrites {

    private DynamoWrites() {
    }

    /** Puts an item (an upsert: replaying an event writes the same item again). */
    public static void put(DynamoDbClient dynamoDb, String table, Map<String, AttributeValue> item,
                           Map<String, AttributeValue> key) {
        put(dynamoDb, table, item, key, OwnedItems.NONE);
    }

    /** {@link #put}, remembered in {@code owned} once written. */
    public static void put(DynamoDbClient dynamoDb, String table, Map<String, AttributeValue> item,
                           Map<String, AttributeValue> key, OwnedItems owned) {
        var transaction = DynamoTransactionManager.current();
        DynamoTransaction.ItemKey itemKey = new DynamoTransaction.ItemKey(table, key);
        if (transaction.isPresent()) {
            transaction.get().write(itemKey,
                    TransactWriteItem.builder().put(Put.builder().tableName(table).item(item).build()).build(),
                    IllegalStateException::new);
            owned.written(transaction.get(), itemKey, item);
        } else {
            owned.forget(itemKey);
            dynamoDb.putItem(b -> b.tableName(table).item(item));
            owned.written(null, itemKey, item);
        }
    }

    /**
     * Creates an item that must not exist yet, in the open transaction (else at once): the fence of
     * {@link OwnedItems#readNew}. Should it exist, the transaction is refused whole and its unit of work retried.
     */
    public static void create(DynamoDbClient dynamoDb, String table, Map<String, AttributeValue> item,
                              Map<String, AttributeValue> key, OwnedItems owned) {
        var transaction = DynamoTransactionManager.current();
        DynamoTransaction.ItemKey itemKey = new DynamoTransaction.ItemKey(table, key);
        Put put = Put.builder().tableName(table).item(item).conditionExpression("attribute_not_exists(pk)").build();
        if (transaction.isPresent()) {
            transaction.get().write(itemKey, TransactWriteItem.builder().put(put).build(), detail ->
                    new IllegalStateException("item " + key + " exists already; the unit of work is retried: " + detail));
            owned.written(transaction.get(), itemKey, item);
        } else {
            owned.forget(itemKey);
            dynamoDb.putItem(b -> b.tableName(table).item(item).conditionExpression("attribute_not_exists(pk)"));
            owned.written(null, itemKey, item);
        }
    }

    /**
     * {@link #get} of an item that only the event being handled creates: absent without a read, unless the open
     * transaction holds it (see {@link OwnedItems#readNew}). Create it with {@link #create}.
     */
    public static Optional<Map<String, AttributeValue>> getNew(DynamoDbClient dynamoDb, String table,
                                                               Map<String, AttributeValue> key, OwnedItems owned) {
        DynamoTransaction.ItemKey itemKey = new DynamoTransaction.ItemKey(table, key);
        var pending = DynamoTransactionManager.current().flatMap(transaction -> transaction.pending(itemKey));
        if (pending.isPresent()) {
            return get(dynamoDb, table, key, owned);
        }
        return owned.readNew(itemKey, () -> fromTable(dynamoDb, table, key));
    }

    /**
     * Reads an item as the open transaction will leave it: a put already collected in it (an earlier event of the same
     * batch) wins over the table, a collected delete reads as absent. Without a transaction, a consistent read.
     */
    public static Optional<Map<String, AttributeValue>> get(DynamoDbClient dynamoDb, String table,
                                                            Map<String, AttributeValue> key) {
        return get(dynamoDb, table, key, OwnedItems.NONE);
    }

    /** {@link #get}, where the table's answer may come from what {@code owned} remembers. */
    public static Optional<Map<String, AttributeValue>> get(DynamoDbClient dynamoDb, String table,
                                                            Map<String, AttributeValue> key, OwnedItems owned) {
        DynamoTransaction.ItemKey itemKey = new DynamoTransaction.ItemKey(table, key);
        var pending = DynamoTransactionManager.current().flatMap(transaction -> transaction.pending(itemKey));
        if (pending.isPresent()) {
            TransactWriteItem write = pending.get().item();
            if (write.put() != null) {
                return Optional.of(write.put().item());
            }
            if (write.delete() != null) {
                return Optional.empty();
            }
            throw new IllegalStateException("an update of " + key + " is pending; read it after the commit");
        }
        return owned.read(itemKey, () -> fromTable(dynamoDb, table, key));
    }

    private static Optional<Map<String, AttributeValue>> fromTable(DynamoDbClient dynamoDb, String table,
                                                                   Map<String, AttributeValue> key) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(key)).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(item);
    }

    /** Items per {@code BatchWriteItem}, DynamoDB's limit. */
    private static final int BATCH = 25;
    /** Up to this many items join the open transaction; more are written at once (it holds 100 items in all). */
    private static final int JOIN_LIMIT = 40;

    /**
     * Puts many items. A few join the open transaction; a large set (a fan-out event) is written at once in batches,
     * outside it, so it must be idempotent: the same event writes the same items again.
     */
    public static void putMany(DynamoDbClient dynamoDb, String table, java.util.List<Map<String, AttributeValue>> items,
                               java.util.function.Function<Map<String, AttributeValue>, Map<String, AttributeValue>> keyOf) {
        putMany(dynamoDb, table, items, keyOf, OwnedItems.NONE);
    }

    /** {@link #putMany}; what is written at once is forgotten by {@code owned} (read from the table next time). */
    public static void putMany(DynamoDbClient dynamoDb, String table, java.util.List<Map<String, AttributeValue>> items,
                               java.util.function.Function<Map<String, AttributeValue>, Map<String, AttributeValue>> keyOf,
                               OwnedItems owned) {
        if (items.size() <= JOIN_LIMIT && DynamoTransactionManager.current().isPresent()) {
            items.forEach(item -> put(dynamoDb, table, item, keyOf.apply(item), owned));
            return;
        }
        items.forEach(item -> owned.forget(new DynamoTransaction.ItemKey(table, keyOf.apply(item))));
        for (int from = 0; from < items.size(); from += BATCH) {
            var requests = items.subList(from, Math.min(items.size(), from + BATCH)).stream()
                    .map(item -> software.amazon.awssdk.services.dynamodb.model.WriteRequest.builder()
                            .putRequest(p -> p.item(item)).build())
                    .toList();
            Map<String, java.util.List<software.amazon.awssdk.services.dynamodb.model.WriteRequest>> pending =
                    Map.of(table, requests);
            while (!pending.isEmpty()) {
                var request = software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest.builder()
                        .requestItems(pending).build();
                var response = dynamoDb.batchWriteItem(request);
                pending = response.hasUnprocessedItems() ? response.unprocessedItems() : Map.of();
            }
        }
    }
}
