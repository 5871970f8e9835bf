package io.dagy.eventstore.tx;

import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;

/**
 * Estimates of what transaction writes weigh against DynamoDB's limits (an item at most 400 KB, a transaction at most
 * 4 MB), after DynamoDB's rules for item size: attribute names and values in UTF-8 bytes, numbers at most 21 bytes, a
 * few bytes per list or map element. An update counts its key, expressions and values, not the item it produces.
 */
final class WriteSizes {

    /** Per action: table name, operation, framing. */
    private static final int ACTION_OVERHEAD = 100;

    private WriteSizes() {
    }

    static long of(Collection<DynamoTransaction.PendingWrite> writes) {
        return writes.stream().mapToLong(write -> of(write.item())).sum();
    }

    static long of(TransactWriteItem item) {
        long size = ACTION_OVERHEAD;
        if (item.put() != null) {
            size += item(item.put().item()) + text(item.put().conditionExpression())
                    + item(item.put().expressionAttributeValues());
        }
        if (item.update() != null) {
            size += item(item.update().key()) + text(item.update().updateExpression())
                    + text(item.update().conditionExpression()) + item(item.update().expressionAttributeValues());
        }
        if (item.delete() != null) {
            size += item(item.delete().key()) + text(item.delete().conditionExpression())
                    + item(item.delete().expressionAttributeValues());
        }
        if (item.conditionCheck() != null) {
            size += item(item.conditionCheck().key()) + text(item.conditionCheck().conditionExpression())
                    + item(item.conditionCheck().expressionAttributeValues());
        }
        return size;
    }

    private static long item(Map<String, AttributeValue> attributes) {
        if (attributes == null) {
            return 0;
        }
        long size = 0;
        for (var attribute : attributes.entrySet()) {
            size += text(attribute.getKey()) + value(attribute.getValue());
        }
        return size;
    }

    private static long value(AttributeValue value) {
        if (value.s() != null) {
            return text(value.s());
        }
        if (value.n() != null) {
            return Math.min(21, value.n().length() + 1);
        }
        if (value.b() != null) {
            return value.b().asByteArrayUnsafe().length;
        }
        if (value.hasSs()) {
            return value.ss().stream().mapToLong(WriteSizes::text).sum();
        }
        if (value.hasNs()) {
            return value.ns().stream().mapToLong(n -> Math.min(21, n.length() + 1)).sum();
        }
        if (value.hasBs()) {
            return value.bs().stream().mapToLong(b -> b.asByteArrayUnsafe().length).sum();
        }
        if (value.hasL()) {
            return 3 + value.l().stream().mapToLong(v -> 1 + value(v)).sum();
        }
        if (value.hasM()) {
            return 3 + value.m().entrySet().stream().mapToLong(e -> 1 + text(e.getKey()) + value(e.getValue())).sum();
        }
        return 1; // BOOL, NULL
    }

    private static long text(String text) {
        return text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Whether a stored item is the one a put would write: the same attributes, sets compared as sets. */
    static boolean sameItem(Map<String, AttributeValue> stored, Map<String, AttributeValue> written) {
        if (!stored.keySet().equals(written.keySet())) {
            return false;
        }
        for (var attribute : written.entrySet()) {
            if (!sameValue(stored.get(attribute.getKey()), attribute.getValue())) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameValue(AttributeValue stored, AttributeValue written) {
        if (written.hasSs() && stored.hasSs()) {
            return new HashSet<>(stored.ss()).equals(new HashSet<>(written.ss()));
        }
        if (written.hasNs() && stored.hasNs()) {
            return new HashSet<>(stored.ns()).equals(new HashSet<>(written.ns()));
        }
        if (written.hasBs() && stored.hasBs()) {
            return new HashSet<>(stored.bs()).equals(new HashSet<>(written.bs()));
        }
        if (written.hasL() && stored.hasL()) {
            if (written.l().size() != stored.l().size()) {
                return false;
            }
            for (int i = 0; i < written.l().size(); i++) {
                if (!sameValue(stored.l().get(i), written.l().get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (written.hasM() && stored.hasM()) {
            return sameItem(stored.m(), written.m());
        }
        return stored.equals(written);
    }
}
