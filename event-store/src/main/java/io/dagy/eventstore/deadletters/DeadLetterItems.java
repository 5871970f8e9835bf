package io.dagy.eventstore.deadletters;

import io.dagy.eventstore.events.StoredTokens;

import io.dagy.eventstore.events.Compression;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.GenericTrackedDomainEventMessage;
import org.axonframework.eventhandling.GenericTrackedEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.deadletter.Cause;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.deadletter.ThrowableCause;
import org.axonframework.serialization.SerializedMessage;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedObject;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * How a letter is laid out in a {@code DAGY_DEAD_LETTERS} item, and back. The event is stored as the processor got
 * it: payload and metadata with the event serializer (gzip above 8 KB, like the event store), its tracking token with
 * the general serializer, aggregate fields when it is a domain event.
 */
final class DeadLetterItems {

    static final String PK = "pk";
    static final String SK = "sk";
    // sequence header
    static final String NEXT = "next";
    static final String COUNT = "count";
    static final String CLAIM = "claim";
    static final String CLAIMED_UNTIL = "claimedUntil";
    // letter
    static final String LETTER_ID = "lid";
    static final String SEQUENCE = "seqId";
    static final String INDEX = "idx";
    static final String EVENT_ID = "eid";
    static final String TIMESTAMP = "ts";
    static final String PAYLOAD_TYPE = "pt";
    static final String PAYLOAD_REVISION = "pr";
    static final String PAYLOAD = "p";
    static final String META = "m";
    static final String COMPRESSED = "z";
    static final String AGGREGATE = "agg";
    static final String AGGREGATE_TYPE = "at";
    static final String AGGREGATE_SEQUENCE = "aseq";
    static final String TOKEN_TYPE = "tt";
    static final String TOKEN = "tk";
    static final String ENQUEUED_AT = "enq";
    static final String LAST_TOUCHED = "touched";
    static final String CAUSE_TYPE = "ct";
    static final String CAUSE_MESSAGE = "cm";
    static final String DIAGNOSTICS = "diag";

    /** Payload and metadata above this many bytes are gzip-compressed, as in the event store. */
    static final int COMPRESSION_THRESHOLD = 8 * 1024;

    private DeadLetterItems() {
    }

    /** Everything but the keys: the event, its token, and the letter's cause, times and diagnostics. */
    static Map<String, AttributeValue> letterAttributes(String letterId, String sequence, long index,
                                                        DeadLetter<? extends EventMessage<?>> letter,
                                                        Serializer eventSerializer, Serializer serializer) {
        EventMessage<?> event = letter.message();
        SerializedObject<byte[]> payload = event.serializePayload(eventSerializer, byte[].class);
        SerializedObject<byte[]> meta = event.serializeMetaData(eventSerializer, byte[].class);
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(LETTER_ID, s(letterId));
        item.put(SEQUENCE, s(sequence));
        item.put(INDEX, n(index));
        item.put(EVENT_ID, s(event.getIdentifier()));
        item.put(TIMESTAMP, s(event.getTimestamp().toString()));
        item.put(PAYLOAD_TYPE, s(payload.getType().getName()));
        if (payload.getType().getRevision() != null) {
            item.put(PAYLOAD_REVISION, s(payload.getType().getRevision()));
        }
        String compressed = "";
        byte[] payloadBytes = payload.getData();
        if (payloadBytes.length > COMPRESSION_THRESHOLD) {
            payloadBytes = Compression.gzip(payloadBytes);
            compressed += "p";
        }
        byte[] metaBytes = meta.getData();
        if (metaBytes.length > COMPRESSION_THRESHOLD) {
            metaBytes = Compression.gzip(metaBytes);
            compressed += "m";
        }
        item.put(PAYLOAD, b(payloadBytes));
        item.put(META, b(metaBytes));
        if (!compressed.isEmpty()) {
            item.put(COMPRESSED, s(compressed));
        }
        if (event instanceof DomainEventMessage<?> domain && domain.getAggregateIdentifier() != null) {
            item.put(AGGREGATE, s(domain.getAggregateIdentifier()));
            item.put(AGGREGATE_SEQUENCE, n(domain.getSequenceNumber()));
            if (domain.getType() != null) {
                item.put(AGGREGATE_TYPE, s(domain.getType()));
            }
        }
        if (event instanceof TrackedEventMessage<?> tracked && tracked.trackingToken() != null) {
            // the position the event stands at, as the token store keeps it: a stream's own catch-up tokens are
            // not meant to be stored (docs/event-store.md, "Segments at different positions")
            SerializedObject<byte[]> token = serializer.serialize(StoredTokens.canonical(tracked.trackingToken()),
                    byte[].class);
            item.put(TOKEN_TYPE, s(token.getType().getName()));
            item.put(TOKEN, b(token.getData()));
        }
        item.put(ENQUEUED_AT, s(letter.enqueuedAt().toString()));
        item.put(LAST_TOUCHED, s(letter.lastTouched().toString()));
        letter.cause().ifPresent(cause -> putCause(item, cause));
        item.put(DIAGNOSTICS, b(eventSerializer.serialize(letter.diagnostics(), byte[].class).getData()));
        return item;
    }

    /** The cause as stored: its type and its message cut to what Axon's own stores keep. */
    static void putCause(Map<String, AttributeValue> item, Cause cause) {
        item.put(CAUSE_TYPE, s(cause.type()));
        if (cause.message() != null) {
            String message = cause.message();
            item.put(CAUSE_MESSAGE, s(message.length() > ThrowableCause.TRUNCATED_MESSAGE_SIZE
                    ? message.substring(0, ThrowableCause.TRUNCATED_MESSAGE_SIZE) : message));
        }
    }

    static DynamoDeadLetter letter(Map<String, AttributeValue> item, Serializer eventSerializer, Serializer serializer,
                                   Clock clock) {
        String compressed = item.containsKey(COMPRESSED) ? item.get(COMPRESSED).s() : "";
        byte[] payloadBytes = item.get(PAYLOAD).b().asByteArray();
        byte[] metaBytes = item.get(META).b().asByteArray();
        if (compressed.contains("p")) {
            payloadBytes = Compression.gunzip(payloadBytes);
        }
        if (compressed.contains("m")) {
            metaBytes = Compression.gunzip(metaBytes);
        }
        String payloadType = item.get(PAYLOAD_TYPE).s();
        SerializedMessage<?> serialized = new SerializedMessage<>(item.get(EVENT_ID).s(),
                new SimpleSerializedObject<>(payloadBytes, byte[].class, payloadType,
                        item.containsKey(PAYLOAD_REVISION) ? item.get(PAYLOAD_REVISION).s() : null),
                new SimpleSerializedObject<>(metaBytes, byte[].class, MetaData.class.getName(), null),
                eventSerializer);
        Instant timestamp = Instant.parse(item.get(TIMESTAMP).s());
        String aggregate = item.containsKey(AGGREGATE) ? item.get(AGGREGATE).s() : null;
        String aggregateType = item.containsKey(AGGREGATE_TYPE) ? item.get(AGGREGATE_TYPE).s() : null;
        long aggregateSequence = item.containsKey(AGGREGATE_SEQUENCE) ? Long.parseLong(item.get(AGGREGATE_SEQUENCE).n()) : 0L;
        EventMessage<?> event;
        if (item.containsKey(TOKEN_TYPE)) {
            TrackingToken token = serializer.deserialize(new SimpleSerializedObject<>(item.get(TOKEN).b().asByteArray(),
                    byte[].class, item.get(TOKEN_TYPE).s(), null));
            event = aggregate != null
                    ? new GenericTrackedDomainEventMessage<>(token, aggregateType, aggregate, aggregateSequence,
                    serialized, () -> timestamp)
                    : new GenericTrackedEventMessage<>(token, serialized, () -> timestamp);
        } else {
            event = aggregate != null
                    ? new GenericDomainEventMessage<>(aggregateType, aggregate, aggregateSequence, serialized, timestamp)
                    : new GenericEventMessage<>(serialized, () -> timestamp);
        }
        Cause cause = item.containsKey(CAUSE_TYPE)
                ? new ThrowableCause(item.get(CAUSE_TYPE).s(), item.containsKey(CAUSE_MESSAGE) ? item.get(CAUSE_MESSAGE).s() : null)
                : null;
        MetaData diagnostics = item.containsKey(DIAGNOSTICS)
                ? eventSerializer.deserialize(new SimpleSerializedObject<>(item.get(DIAGNOSTICS).b().asByteArray(),
                byte[].class, MetaData.class.getName(), null))
                : MetaData.emptyInstance();
        return new DynamoDeadLetter(item.get(LETTER_ID).s(), item.get(SEQUENCE).s(), Long.parseLong(item.get(INDEX).n()),
                payloadType, event, cause, Instant.parse(item.get(ENQUEUED_AT).s()),
                Instant.parse(item.get(LAST_TOUCHED).s()), diagnostics, clock);
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
