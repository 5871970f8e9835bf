package io.dagy.eventstore.deadlines;

import org.axonframework.deadline.DeadlineMessage;
import org.axonframework.deadline.GenericDeadlineMessage;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.ScopeDescriptor;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.SerializedType;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedType;
import org.axonframework.serialization.SimpleSerializedObject;
import software.amazon.awssdk.core.SdkBytes;
import io.dagy.eventstore.tx.DynamoTransaction;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/** The attribute names and the mapping between deadlines and the items of the deadlines table. */
final class DeadlineItems {

    static final String PK = "pk";
    static final String SK = "sk";

    // due item
    static final String DEADLINE_NAME = "deadlineName";
    static final String SCHEDULE_ID = "scheduleId";
    static final String TRIGGER_AT = "triggerAt";
    static final String MESSAGE_ID = "messageId";
    static final String MESSAGE_TIMESTAMP = "messageTimestamp";
    static final String PAYLOAD = "payload";
    static final String PAYLOAD_TYPE = "payloadType";
    static final String PAYLOAD_REVISION = "payloadRevision";
    static final String META_DATA = "metaData";
    static final String SCOPE = "scope";
    static final String SCOPE_TYPE = "scopeType";
    static final String SCOPE_REVISION = "scopeRevision";
    static final String LEASE_OWNER = "leaseOwner";
    static final String LEASE_UNTIL = "leaseUntil";
    /** Claims of the deadline so far: the firing that holds the lease counts. */
    static final String ATTEMPTS = "attempts";

    // parked item: the due item's attributes under pk = PARKED_PARTITION, sk = schedule id, plus these
    static final String PARKED_PARTITION = "parked";
    static final String LAST_ERROR = "lastError";
    static final String PARKED_AT = "parkedAt";

    // index items
    static final String DUE_PK = "duePk";
    static final String DUE_SK = "dueSk";

    private DeadlineItems() {
    }

    static String duePartition(int shard) {
        return "due#" + shard;
    }

    /** Sort key of a due item; also the prefix {@code padded(millis) + "#~"} bounds every item due by then. */
    static String padded(long millis) {
        return String.format("%015d", millis);
    }

    static Map<String, AttributeValue> dueKey(ScheduleId id) {
        return key(duePartition(id.shard()), padded(id.triggerMillis()) + "#" + id.value());
    }

    static Map<String, AttributeValue> nameIndexKey(String deadlineName, ScheduleId id) {
        return key("name#" + deadlineName, id.value());
    }

    static String scopeIndexPartition(String deadlineName, String scopeKey) {
        return "scope#" + deadlineName + "#" + scopeKey;
    }

    static Map<String, AttributeValue> scopeIndexKey(String deadlineName, ScheduleId id) {
        return key(scopeIndexPartition(deadlineName, id.scopeKey()), id.value());
    }

    static Map<String, AttributeValue> key(String pk, String sk) {
        return Map.of(PK, s(pk), SK, s(sk));
    }

    /**
     * A stable 22 character key of a serialized scope: URL-safe base64 of the first 128 bits of SHA-256 over its
     * type name and bytes. Equal scopes serialize equally (the same assumption Axon's stores make when they compare
     * serialized scopes), so they get the same key.
     */
    static String scopeKey(SerializedObject<byte[]> scope) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(scope.getType().getName().getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
            digest.update(scope.getData());
            return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest.digest(), 16));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    static Map<String, AttributeValue> dueItem(ScheduleId id, DeadlineMessage<?> message,
                                               SerializedObject<byte[]> scope, Serializer serializer) {
        SerializedObject<byte[]> payload = serializer.serialize(message.getPayload(), byte[].class);
        SerializedObject<byte[]> metaData = serializer.serialize(message.getMetaData(), byte[].class);
        Map<String, AttributeValue> item = new HashMap<>(dueKey(id));
        item.put(DEADLINE_NAME, s(message.getDeadlineName()));
        item.put(SCHEDULE_ID, s(id.value()));
        item.put(TRIGGER_AT, n(id.triggerMillis()));
        item.put(MESSAGE_ID, s(message.getIdentifier()));
        item.put(MESSAGE_TIMESTAMP, s(message.getTimestamp().toString()));
        putSerialized(item, PAYLOAD, PAYLOAD_TYPE, PAYLOAD_REVISION, payload);
        item.put(META_DATA, b(metaData.getData()));
        putSerialized(item, SCOPE, SCOPE_TYPE, SCOPE_REVISION, scope);
        return item;
    }

    static Map<String, AttributeValue> indexItem(Map<String, AttributeValue> indexKey, ScheduleId id) {
        Map<String, AttributeValue> item = new HashMap<>(indexKey);
        Map<String, AttributeValue> due = dueKey(id);
        item.put(DUE_PK, due.get(PK));
        item.put(DUE_SK, due.get(SK));
        return item;
    }

    static DeadlineMessage<Object> message(Map<String, AttributeValue> item, Serializer serializer) {
        Object payload = serializer.deserialize(serialized(item, PAYLOAD, PAYLOAD_TYPE, PAYLOAD_REVISION));
        MetaData metaData = serializer.deserialize(new SimpleSerializedObject<>(
                item.get(META_DATA).b().asByteArray(), byte[].class, MetaData.class.getName(), null));
        return new GenericDeadlineMessage<>(item.get(DEADLINE_NAME).s(), item.get(MESSAGE_ID).s(), payload,
                metaData, Instant.parse(item.get(MESSAGE_TIMESTAMP).s()));
    }

    static ScopeDescriptor scope(Map<String, AttributeValue> item, Serializer serializer) {
        return serializer.deserialize(serialized(item, SCOPE, SCOPE_TYPE, SCOPE_REVISION));
    }

    private static void putSerialized(Map<String, AttributeValue> item, String data, String type, String revision,
                                      SerializedObject<byte[]> serialized) {
        item.put(data, b(serialized.getData()));
        item.put(type, s(serialized.getType().getName()));
        if (serialized.getType().getRevision() != null) {
            item.put(revision, s(serialized.getType().getRevision()));
        }
    }

    private static SerializedObject<byte[]> serialized(Map<String, AttributeValue> item, String data, String type,
                                                       String revision) {
        AttributeValue rev = item.get(revision);
        SerializedType serializedType = new SimpleSerializedType(
                item.get(type).s(), rev == null ? null : rev.s());
        return new SimpleSerializedObject<>(item.get(data).b().asByteArray(), byte[].class, serializedType);
    }

    static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    static AttributeValue n(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }

    private static AttributeValue b(byte[] value) {
        return AttributeValue.fromB(SdkBytes.fromByteArray(value));
    }

    /** One write of a deadline item, for a {@code TransactWriteItems} call or an open {@link DynamoTransaction}. */
    record Write(String table, Map<String, AttributeValue> key, TransactWriteItem item) {

        static Write put(String table, Map<String, AttributeValue> item) {
            return new Write(table, Map.of(PK, item.get(PK), SK, item.get(SK)),
                    TransactWriteItem.builder().put(Put.builder().tableName(table).item(item).build()).build());
        }

        static Write delete(String table, Map<String, AttributeValue> key) {
            return new Write(table, key,
                    TransactWriteItem.builder().delete(Delete.builder().tableName(table).key(key).build()).build());
        }

        static Write deleteIf(String table, Map<String, AttributeValue> key, String condition,
                              Map<String, AttributeValue> values) {
            return new Write(table, key, TransactWriteItem.builder().delete(Delete.builder().tableName(table).key(key)
                    .conditionExpression(condition).expressionAttributeValues(values).build()).build());
        }

        void addTo(DynamoTransaction transaction, Function<String, RuntimeException> onConditionFailed) {
            transaction.write(new DynamoTransaction.ItemKey(table, key), item, onConditionFailed);
        }

        /** Adds it to the transaction in a group: should the transaction be split, the group stays in one part. */
        void addTo(DynamoTransaction transaction, String group, Function<String, RuntimeException> onConditionFailed) {
            transaction.write(new DynamoTransaction.ItemKey(table, key), item, group, onConditionFailed);
        }
    }
}
