package io.dagy.eventstore.deadletters;

import io.dagy.eventstore.events.EventItems;
import org.axonframework.eventhandling.GenericDomainEventEntry;

import io.dagy.eventstore.events.StoredTokens;

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
        // the event as the event store lays it out (docs/event-store.md), beside the letter's own attributes
        Map<String, AttributeValue> item = new HashMap<>(EventItems.attributes(event, eventSerializer,
                COMPRESSION_THRESHOLD));
        item.put(LETTER_ID, s(letterId));
        item.put(SEQUENCE, s(sequence));
        item.put(INDEX, n(index));
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
        GenericDomainEventEntry<byte[]> entry = EventItems.entry(item);
        String payloadType = entry.getPayload().getType().getName();
        SerializedMessage<?> serialized = new SerializedMessage<>(entry.getEventIdentifier(), entry.getPayload(),
                entry.getMetaData(), eventSerializer);
        Instant timestamp = entry.getTimestamp();
        String aggregate = entry.getAggregateIdentifier();
        String aggregateType = entry.getType();
        long aggregateSequence = entry.getSequenceNumber();
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
