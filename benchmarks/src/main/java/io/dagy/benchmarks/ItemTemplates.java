package io.dagy.benchmarks;

import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.Map;

/**
 * The two items the engine writes for one domain event, captured from a real append, so that the raw yardstick
 * writes exactly the engine's attributes and bytes without knowing its item layout. Only the key prefixes are the
 * engine's: {@code stream#} for the stream item and {@code agg#} for the aggregate item.
 *
 * @param streamItem    the item at the event's position
 * @param aggregateItem the item at the event's aggregate and sequence number
 */
record ItemTemplates(Map<String, AttributeValue> streamItem, Map<String, AttributeValue> aggregateItem) {

    /** Appends one sample event to the (empty) table through the engine and reads back what it wrote. */
    static ItemTemplates capture(EventStorageEngine engine, DynamoDbClient dynamoDb, String table, String detail) {
        engine.appendEvents(StepRecorded.batch("template", 0, 1, detail));
        Map<String, AttributeValue> stream = null;
        Map<String, AttributeValue> aggregate = null;
        for (Map<String, AttributeValue> item : dynamoDb.scanPaginator(b -> b.tableName(table)).items()) {
            String pk = item.get("pk").s();
            if (pk.startsWith("stream#")) {
                stream = item;
            } else if (pk.startsWith("agg#")) {
                aggregate = item;
            }
        }
        if (stream == null || aggregate == null) {
            throw new IllegalStateException("the engine's items were not found in " + table
                    + ": has its key layout changed?");
        }
        return new ItemTemplates(stream, aggregate);
    }

    /** Approximate DynamoDB size of an item: attribute names plus values. */
    static int sizeOf(Map<String, AttributeValue> item) {
        int size = 0;
        for (Map.Entry<String, AttributeValue> attribute : item.entrySet()) {
            AttributeValue value = attribute.getValue();
            size += attribute.getKey().length();
            if (value.s() != null) {
                size += value.s().length();
            } else if (value.n() != null) {
                size += value.n().length();
            } else if (value.b() != null) {
                size += value.b().asByteArrayUnsafe().length;
            } else {
                size += 1;
            }
        }
        return size;
    }
}
