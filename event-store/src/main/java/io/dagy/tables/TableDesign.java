package io.dagy.tables;

import java.util.Objects;
import java.util.Optional;

/**
 * The key design of a table. Tables are on-demand (pay per request), so no capacity is part of the design.
 *
 * @param partitionKey the hash key
 * @param sortKey      the range key
 * @param timeToLive   the attribute DynamoDB's time to live reads (epoch seconds), or empty when items never expire
 */
public record TableDesign(Key partitionKey, Key sortKey, Optional<String> timeToLive) {

    public TableDesign {
        Objects.requireNonNull(partitionKey, "partitionKey");
        Objects.requireNonNull(sortKey, "sortKey");
        Objects.requireNonNull(timeToLive, "timeToLive");
    }

    /** The same keys, with items that DynamoDB deletes once the epoch second in {@code attribute} has passed. */
    TableDesign expiringBy(String attribute) {
        return new TableDesign(partitionKey, sortKey, Optional.of(attribute));
    }

    /** A key attribute and its DynamoDB scalar type. */
    public record Key(String name, AttributeType type) {
        public Key {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
        }
    }

    public enum AttributeType { S, N, B }

    static TableDesign keyed(String partitionKey, AttributeType partitionType, String sortKey, AttributeType sortType) {
        return new TableDesign(new Key(partitionKey, partitionType), new Key(sortKey, sortType), Optional.empty());
    }

    /**
     * Read tables written by projections: a string partition key and a string sort key, so one table can hold an
     * entity and the rows that hang off it. The projection that owns a table documents what goes into the keys.
     */
    static TableDesign readModel() {
        return keyed("pk", AttributeType.S, "sk", AttributeType.S);
    }
}
