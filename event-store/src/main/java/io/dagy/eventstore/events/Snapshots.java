package io.dagy.eventstore.events;

import io.dagy.eventstore.tx.TransactionConflicts;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventEntry;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.dagy.eventstore.events.EventItems.PAYLOAD;
import static io.dagy.eventstore.events.EventItems.PK;
import static io.dagy.eventstore.events.EventItems.SEQUENCE;
import static io.dagy.eventstore.events.EventItems.SK;
import static io.dagy.eventstore.events.EventItems.b;
import static io.dagy.eventstore.events.EventItems.longOf;
import static io.dagy.eventstore.events.EventItems.n;
import static io.dagy.eventstore.events.EventItems.s;

/**
 * The latest snapshot of each aggregate: a header item ({@code sk = 0}) and, when the compressed payload does not fit
 * in one item, chunk items {@code sk = 1..n}, all written in one transaction. The header is written only if it is
 * newer than the stored one, so an old snapshot never replaces a newer one, and chunks of two snapshots never mix.
 */
final class Snapshots {

    private static final String CHUNKS = "chunks";
    /** Payload bytes per chunk item, leaving room for keys. */
    private static final int CHUNK_BYTES = 380 * 1024;
    /** Header, chunks, 4 MB: the transaction limit bounds a snapshot at 10 chunks, about 3.7 MB compressed. */
    private static final int MAX_CHUNKS = 10;

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final int compressionThreshold;

    Snapshots(DynamoDbClient dynamoDb, String table, int compressionThreshold) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.compressionThreshold = compressionThreshold;
    }

    void store(DomainEventMessage<?> snapshot, Serializer serializer) {
        Map<String, AttributeValue> header = new HashMap<>(EventItems.attributes(snapshot, serializer, compressionThreshold));
        byte[] payload = header.get(PAYLOAD).b().asByteArray();
        List<TransactWriteItem> items = new ArrayList<>();
        if (payload.length + EventItems.ITEM_OVERHEAD > EventItems.MAX_ITEM_BYTES) {
            int chunks = (payload.length + CHUNK_BYTES - 1) / CHUNK_BYTES;
            if (chunks > MAX_CHUNKS) {
                throw new EventTooLargeException("the snapshot of aggregate " + snapshot.getAggregateIdentifier()
                        + " takes " + payload.length + " bytes compressed; at most " + (MAX_CHUNKS * CHUNK_BYTES)
                        + " fit in one transaction. Nothing was written.");
            }
            header.put(PAYLOAD, b(new byte[0]));
            header.put(CHUNKS, n(chunks));
            for (int chunk = 1; chunk <= chunks; chunk++) {
                byte[] part = Arrays.copyOfRange(payload, (chunk - 1) * CHUNK_BYTES,
                        Math.min(payload.length, chunk * CHUNK_BYTES));
                items.add(put(Map.of(PK, s(snapshot.getAggregateIdentifier()), SK, n(chunk), PAYLOAD, b(part)), null));
            }
        }
        header.put(PK, s(snapshot.getAggregateIdentifier()));
        header.put(SK, n(0));
        items.add(0, put(header, "attribute_not_exists(pk) OR seq < :seq"));
        try {
            TransactionConflicts.retried(() -> dynamoDb.transactWriteItems(b -> b.transactItems(items)));
        } catch (TransactionCanceledException cancelled) {
            if (TransactionConflicts.onlyConflicts(cancelled)) {
                throw cancelled; // still conflicting after the retries: the caller may snapshot later
            }
            // a snapshot at this or a later sequence is already stored: keeping it is correct
        }
    }

    Optional<GenericDomainEventEntry<byte[]>> read(String aggregateId) {
        Map<String, AttributeValue> header = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true)
                .key(Map.of(PK, s(aggregateId), SK, n(0)))).item();
        if (header == null || header.isEmpty()) {
            return Optional.empty();
        }
        if (header.containsKey(CHUNKS)) {
            long chunks = longOf(header, CHUNKS);
            ByteArrayOutputStream payload = new ByteArrayOutputStream();
            dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true)
                            .keyConditionExpression("pk = :pk AND sk BETWEEN :first AND :last")
                            .expressionAttributeValues(Map.of(":pk", s(aggregateId), ":first", n(1), ":last", n(chunks))))
                    .items().forEach(chunk -> payload.writeBytes(chunk.get(PAYLOAD).b().asByteArray()));
            header = new HashMap<>(header);
            header.put(PAYLOAD, b(payload.toByteArray()));
        }
        return Optional.of(EventItems.entry(header));
    }

    private TransactWriteItem put(Map<String, AttributeValue> item, String condition) {
        Put.Builder put = Put.builder().tableName(table).item(item);
        if (condition != null) {
            put.conditionExpression(condition).expressionAttributeValues(Map.of(":seq", item.get(SEQUENCE)));
        }
        return TransactWriteItem.builder().put(put.build()).build();
    }
}
