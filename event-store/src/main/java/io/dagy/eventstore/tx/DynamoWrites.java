package io.dagy.eventstore.tx;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

import java.util.Map;

/** Writes for projections: inside the processor's transaction when one is open, else at once. */
public final class DynamoWrites {

    private DynamoWrites() {
    }

    /** Puts an item (an upsert: replaying an event writes the same item again). */
    public static void put(DynamoDbClient dynamoDb, String table, Map<String, AttributeValue> item,
                           Map<String, AttributeValue> key) {
        var transaction = DynamoTransactionManager.current();
        if (transaction.isPresent()) {
            transaction.get().write(new DynamoTransaction.ItemKey(table, key),
                    TransactWriteItem.builder().put(Put.builder().tableName(table).item(item).build()).build(),
                    IllegalStateException::new);
        } else {
            dynamoDb.putItem(b -> b.tableName(table).item(item));
        }
    }
}
