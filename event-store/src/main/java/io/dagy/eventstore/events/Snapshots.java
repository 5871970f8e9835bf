package io.dagy.eventstore.events;

import io.dagy.eventstore.tx.TransactionConflicts;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Delete;
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
import java.util.stream.LongStream;
import java.util.zip.CRC32;

import static io.dagy.eventstore.events.EventItems.PAYLOAD;
import static io.dagy.eventstore.events.EventItems.PK;
import static io.dagy.eventstore.events.EventItems.SEQUENCE;
import static io.dagy.eventstore.events.EventItems.SHARD;
import static io.dagy.eventstore.events.EventItems.SK;
import static io.dagy.eventstore.events.EventItems.b;
import static io.dagy.eventstore.events.EventItems.longOf;
import static io.dagy.eventstore.events.EventItems.n;
import static io.dagy.eventstore.events.EventItems.s;

/**
 * The latest snapshot of each aggregate: a header item ({@code sk = 0}) and, when the compressed payload does not fit
 * in one item, chunk items. Chunks belong to one snapshot: their keys derive from its sequence number
 * ({@link #firstChunkKey}), the header names the first key, the count, the length and a CRC-32 of the payload, and a
 * snapshot's chunks are written once, with its header, and deleted in the transaction that moves the header past it.
 * A reader that finds the chunks its header names missing (a newer snapshot replaced them between the two reads) or
 * not matching reads the header again; it never assembles one snapshot's header with another's chunks.
 */
final class Snapshots {

    private static final Logger log = LoggerFactory.getLogger(Snapshots.class);

    private static final String CHUNKS = "chunks";
    /** Sort key of the first chunk; absent in headers of the earlier layout, whose chunks sit at 1..n. */
    private static final String FIRST_CHUNK = "c1";
    /** Length and CRC-32 of the payload as stored (compressed), checked after the chunks are assembled. */
    private static final String LENGTH = "len";
    private static final String CRC = "crc";
    /** Payload bytes per chunk item, leaving room for keys. */
    private static final int CHUNK_BYTES = 380 * 1024;
    /** Header, chunks, 4 MB: the transaction limit bounds a snapshot at 10 chunks, about 3.7 MB compressed. */
    private static final int MAX_CHUNKS = 10;
    /** Sort keys reserved per snapshot sequence number for its chunks; more than {@link #MAX_CHUNKS}. */
    private static final long CHUNK_KEYS_PER_SNAPSHOT = 16;
    /** Reads of header and chunks before a reader gives up on the snapshot (the aggregate then loads from its events). */
    private static final int READ_ATTEMPTS = 3;
    /** Writes of a snapshot while other writers keep moving the header; then it is left to them. */
    private static final int WRITE_ATTEMPTS = 3;

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final int compressionThreshold;
    private final ReadHook readHook;

    Snapshots(DynamoDbClient dynamoDb, String table, int compressionThreshold, ReadHook readHook) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.compressionThreshold = compressionThreshold;
        this.readHook = readHook;
    }

    /**
     * The sort key of the first chunk of the snapshot at {@code sequence}: {@code (sequence + 1) * 16 + 1}. Each
     * snapshot has keys of its own, and none collides with the header (0) or the chunks of the earlier layout (1..10).
     */
    static long firstChunkKey(long sequence) {
        return Math.addExact(Math.multiplyExact(sequence + 1, CHUNK_KEYS_PER_SNAPSHOT), 1);
    }

    /**
     * Stores the snapshot if it is newer than the stored one. One transaction writes the header (only if the header is
     * still the one just read), the new chunks, and deletes the chunks of the snapshot it replaces.
     */
    void store(DomainEventMessage<?> snapshot, Serializer serializer, Integer shard) {
        String aggregateId = snapshot.getAggregateIdentifier();
        long sequence = snapshot.getSequenceNumber();
        Map<String, AttributeValue> header = new HashMap<>(EventItems.attributes(snapshot, serializer, compressionThreshold));
        byte[] payload = header.get(PAYLOAD).b().asByteArray();
        List<TransactWriteItem> chunkWrites = new ArrayList<>();
        if (payload.length + EventItems.ITEM_OVERHEAD > EventItems.MAX_ITEM_BYTES) {
            int chunks = (payload.length + CHUNK_BYTES - 1) / CHUNK_BYTES;
            if (chunks > MAX_CHUNKS) {
                throw new EventTooLargeException("the snapshot of aggregate " + aggregateId
                        + " takes " + payload.length + " bytes compressed; at most " + (MAX_CHUNKS * CHUNK_BYTES)
                        + " fit in one transaction. Nothing was written.");
            }
            long first = firstChunkKey(sequence);
            header.put(PAYLOAD, b(new byte[0]));
            header.put(CHUNKS, n(chunks));
            header.put(FIRST_CHUNK, n(first));
            header.put(LENGTH, n(payload.length));
            header.put(CRC, n(crc(payload)));
            for (int chunk = 0; chunk < chunks; chunk++) {
                byte[] part = Arrays.copyOfRange(payload, chunk * CHUNK_BYTES, Math.min(payload.length, (chunk + 1) * CHUNK_BYTES));
                chunkWrites.add(TransactWriteItem.builder().put(Put.builder().tableName(table)
                        .item(Map.of(PK, s(aggregateId), SK, n(first + chunk), PAYLOAD, b(part))).build()).build());
            }
        }
        if (shard != null) {
            header.put(SHARD, n(shard)); // the shard of the aggregate's event at this sequence
        }
        header.put(PK, s(aggregateId));
        header.put(SK, n(0));
        for (int attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
            Map<String, AttributeValue> stored = header(aggregateId);
            if (stored != null && longOf(stored, SEQUENCE) >= sequence) {
                return; // a snapshot at this or a later sequence is already stored: keeping it is correct
            }
            List<TransactWriteItem> items = new ArrayList<>();
            Put.Builder headerPut = Put.builder().tableName(table).item(header);
            if (stored == null) {
                headerPut.conditionExpression("attribute_not_exists(pk)");
            } else {
                headerPut.conditionExpression("seq = :seen").expressionAttributeValues(Map.of(":seen", stored.get(SEQUENCE)));
                for (long key : chunkKeys(stored)) {
                    items.add(TransactWriteItem.builder().delete(Delete.builder().tableName(table)
                            .key(Map.of(PK, s(aggregateId), SK, n(key))).build()).build());
                }
            }
            items.add(0, TransactWriteItem.builder().put(headerPut.build()).build());
            items.addAll(chunkWrites);
            try {
                dynamoDb.transactWriteItems(b -> b.transactItems(items));
                return;
            } catch (TransactionCanceledException moved) {
                // another writer moved the header since we read it, or its transaction was in flight: look again
                log.debug("Snapshot of {} at {} cancelled ({}), attempt {}", aggregateId, sequence,
                        moved.cancellationReasons(), attempt);
            }
        }
    }

    /** The latest snapshot as one item, payload assembled from its chunks. */
    Optional<Map<String, AttributeValue>> read(String aggregateId) {
        for (int attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
            Map<String, AttributeValue> header = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true)
                    .key(Map.of(PK, s(aggregateId), SK, n(0)))).item();
            if (header == null || header.isEmpty()) {
                return Optional.empty();
            }
            if (!header.containsKey(CHUNKS)) {
                return Optional.of(header);
            }
            readHook.headerRead(aggregateId);
            Optional<byte[]> payload = assembleChunks(aggregateId, header);
            if (payload.isPresent()) {
                Map<String, AttributeValue> whole = new HashMap<>(header);
                whole.put(PAYLOAD, b(payload.get()));
                return Optional.of(whole);
            }
            log.debug("The chunks of the snapshot of {} at {} were replaced while being read; reading again",
                    aggregateId, header.get(SEQUENCE).n());
        }
        log.warn("The snapshot of {} could not be read whole in {} attempts; loading the aggregate from its events",
                aggregateId, READ_ATTEMPTS);
        return Optional.empty();
    }

    /** The payload from the chunks the header names, or empty if any is missing or they do not match the header. */
    private Optional<byte[]> assembleChunks(String aggregateId, Map<String, AttributeValue> header) {
        List<Long> keys = chunkKeys(header);
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        int next = 0;
        for (Map<String, AttributeValue> chunk : dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true)
                        .keyConditionExpression("pk = :pk AND sk BETWEEN :first AND :last")
                        .expressionAttributeValues(Map.of(":pk", s(aggregateId), ":first", n(keys.get(0)),
                                ":last", n(keys.get(keys.size() - 1)))))
                .items()) {
            if (next >= keys.size() || longOf(chunk, SK) != keys.get(next)) {
                return Optional.empty();
            }
            payload.writeBytes(chunk.get(PAYLOAD).b().asByteArrayUnsafe());
            next++;
        }
        byte[] bytes = payload.toByteArray();
        if (next != keys.size()
                || header.containsKey(LENGTH) && longOf(header, LENGTH) != bytes.length
                || header.containsKey(CRC) && longOf(header, CRC) != crc(bytes)) {
            return Optional.empty();
        }
        return Optional.of(bytes);
    }

    /** The chunk keys a header names: none for a snapshot in one item. */
    private static List<Long> chunkKeys(Map<String, AttributeValue> header) {
        if (!header.containsKey(CHUNKS)) {
            return List.of();
        }
        long first = header.containsKey(FIRST_CHUNK) ? longOf(header, FIRST_CHUNK) : 1;
        return LongStream.range(first, first + longOf(header, CHUNKS)).boxed().toList();
    }

    /** The stored header's sequence number and chunks, or null. */
    private Map<String, AttributeValue> header(String aggregateId) {
        Map<String, AttributeValue> item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true)
                .key(Map.of(PK, s(aggregateId), SK, n(0)))
                .projectionExpression("#seq, #chunks, #first")
                .expressionAttributeNames(Map.of("#seq", SEQUENCE, "#chunks", CHUNKS, "#first", FIRST_CHUNK))).item();
        return item == null || item.isEmpty() ? null : item;
    }

    private static long crc(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }

    /** A test seam between reading a snapshot's header and its chunks: tests write a newer snapshot there. */
    @FunctionalInterface
    interface ReadHook {
        ReadHook NONE = aggregateId -> {
        };

        void headerRead(String aggregateId);
    }
}
