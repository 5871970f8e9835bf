package io.dagy.eventstore.events;

import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventEntry;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.HashMap;
import java.util.Map;

/**
 * How an event is laid out in DynamoDB items, and back. One layout serves the stream item (keyed by shard and
 * position), the aggregate item (keyed by aggregate and sequence) and the snapshot item.
 */
public final class EventItems {

    static final String PK = "pk";
    static final String SK = "sk";
    static final String AGGREGATE = "agg";
    static final String AGGREGATE_TYPE = "at";
    static final String SEQUENCE = "seq";
    static final String EVENT_ID = "eid";
    static final String TIMESTAMP = "ts";
    static final String PAYLOAD_TYPE = "pt";
    static final String PAYLOAD_REVISION = "pr";
    static final String PAYLOAD = "p";
    static final String META = "m";
    /** Which of payload and metadata are gzip-compressed: "p", "m" or "pm". */
    static final String COMPRESSED = "z";
    static final String FENCE = "fence";
    static final String SHARD = "shard";
    static final String POSITION = "pos";
    static final String COUNTER = "next";
    /** On a counter: a token of the last reservation, so a writer can tell that its own lost call landed. */
    static final String RESERVED_BY = "by";

    /** Bytes of item budget kept for everything but payload and metadata (keys, ids, types, timestamp). */
    static final int ITEM_OVERHEAD = 2 * 1024;
    static final int MAX_ITEM_BYTES = 400 * 1024;

    private EventItems() {
    }

    /** The attributes of an event, without keys; compresses payload and metadata above the threshold. */
    public static Map<String, AttributeValue> attributes(EventMessage<?> event, Serializer serializer,
                                                         int compressionThreshold) {
        // an event read from the store keeps its serialized form (nothing is deserialized to write it again, which
        // also lets the dead-letter queue store an event whose payload cannot be deserialized)
        SerializedObject<byte[]> payload = event.serializePayload(serializer, byte[].class);
        SerializedObject<byte[]> meta = event.serializeMetaData(serializer, byte[].class);
        Map<String, AttributeValue> item = new HashMap<>();
        String compressed = "";
        byte[] payloadBytes = payload.getData();
        if (payloadBytes.length > compressionThreshold) {
            payloadBytes = Compression.gzip(payloadBytes);
            compressed += "p";
        }
        byte[] metaBytes = meta.getData();
        if (metaBytes.length > compressionThreshold) {
            metaBytes = Compression.gzip(metaBytes);
            compressed += "m";
        }
        item.put(EVENT_ID, s(event.getIdentifier()));
        item.put(TIMESTAMP, s(event.getTimestamp().toString()));
        item.put(PAYLOAD_TYPE, s(payload.getType().getName()));
        if (payload.getType().getRevision() != null) {
            item.put(PAYLOAD_REVISION, s(payload.getType().getRevision()));
        }
        item.put(PAYLOAD, b(payloadBytes));
        item.put(META, b(metaBytes));
        if (!compressed.isEmpty()) {
            item.put(COMPRESSED, s(compressed));
        }
        if (event instanceof DomainEventMessage<?> domain && domain.getAggregateIdentifier() != null) {
            item.put(AGGREGATE, s(domain.getAggregateIdentifier()));
            item.put(SEQUENCE, n(domain.getSequenceNumber()));
            if (domain.getType() != null) {
                item.put(AGGREGATE_TYPE, s(domain.getType()));
            }
        }
        return item;
    }

    /** Bytes of payload and metadata as stored (after compression). */
    static int dataSize(Map<String, AttributeValue> item) {
        return item.get(PAYLOAD).b().asByteArrayUnsafe().length + item.get(META).b().asByteArrayUnsafe().length;
    }

    /** An item back as Axon's event data (a plain event has no aggregate: Axon then builds a non-domain message). */
    public static GenericDomainEventEntry<byte[]> entry(Map<String, AttributeValue> item) {
        String compressed = item.containsKey(COMPRESSED) ? item.get(COMPRESSED).s() : "";
        byte[] payload = item.get(PAYLOAD).b().asByteArray();
        byte[] meta = item.get(META).b().asByteArray();
        if (compressed.contains("p")) {
            payload = Compression.gunzip(payload);
        }
        if (compressed.contains("m")) {
            meta = Compression.gunzip(meta);
        }
        AttributeValue aggregate = item.get(AGGREGATE);
        AttributeValue type = item.get(AGGREGATE_TYPE);
        AttributeValue revision = item.get(PAYLOAD_REVISION);
        return new GenericDomainEventEntry<>(
                type == null ? null : type.s(),
                aggregate == null ? null : aggregate.s(),
                aggregate == null ? 0L : Long.parseLong(item.get(SEQUENCE).n()),
                item.get(EVENT_ID).s(),
                item.get(TIMESTAMP).s(),
                item.get(PAYLOAD_TYPE).s(),
                revision == null ? null : revision.s(),
                payload,
                meta);
    }

    static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    static AttributeValue n(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }

    static AttributeValue b(byte[] value) {
        return AttributeValue.fromB(SdkBytes.fromByteArrayUnsafe(value));
    }

    static long longOf(Map<String, AttributeValue> item, String attribute) {
        return Long.parseLong(item.get(attribute).n());
    }
}
