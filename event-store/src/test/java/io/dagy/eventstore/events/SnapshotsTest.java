package io.dagy.eventstore.events;

import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.serialization.Serializer;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshots larger than one item are stored in chunks. A reader reads the header, then the chunks; these tests put a
 * newer snapshot between the two reads (the engine's read seam) and check that the state read is always the state of
 * the sequence number it is read under.
 */
class SnapshotsTest {

    /** A snapshot state that knows which sequence number it was taken at. */
    record State(long takenAt, byte[] data) {
    }

    private final Serializer serializer = TestSerializer.jackson();
    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS);

    private DynamoEventStorageEngine engine(Snapshots.ReadHook readHook) {
        return DynamoEventStorageEngine.builder()
                .dynamoDb(TestTables.dynamoDb())
                .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                .eventSerializer(serializer)
                .snapshotSerializer(serializer)
                .snapshotReadHook(readHook)
                .build();
    }

    private final DynamoEventStorageEngine writer = engine(Snapshots.ReadHook.NONE);

    /** A snapshot at {@code sequence} of incompressible state: 900 KB take 3 chunks, 500 KB take 2. */
    private static DomainEventMessage<State> snapshot(String aggregate, long sequence, int kilobytes) {
        byte[] noise = new byte[kilobytes * 1024];
        new Random(sequence).nextBytes(noise);
        return new GenericDomainEventMessage<>("Blob", aggregate, sequence, new State(sequence, noise));
    }

    /** A reader that, on its first read only, lets {@code newer} be stored between the header and the chunks. */
    private DynamoEventStorageEngine readerInterruptedBy(DomainEventMessage<?> newer) {
        AtomicBoolean once = new AtomicBoolean();
        return engine(aggregateId -> {
            if (once.compareAndSet(false, true)) {
                writer.storeSnapshot(newer);
            }
        });
    }

    private static void assertConsistent(DomainEventMessage<?> read, DomainEventMessage<State> expected) {
        State state = (State) read.getPayload();
        assertThat(state.takenAt()).as("state read under sequence %d", read.getSequenceNumber())
                .isEqualTo(read.getSequenceNumber());
        assertThat(read.getSequenceNumber()).isEqualTo(expected.getSequenceNumber());
        assertThat(state.data()).isEqualTo(expected.getPayload().data());
    }

    private List<Map<String, AttributeValue>> storedItems(String aggregate) {
        return TestTables.dynamoDb().query(b -> b.tableName(tables.name(DagyTable.SNAPSHOTS)).consistentRead(true)
                .keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(aggregate)))).items();
    }

    @Test
    void aSnapshotWrittenBetweenReadingTheHeaderAndTheChunksIsNeverReadUnderTheOlderSequence() {
        writer.storeSnapshot(snapshot("torn", 100, 900));
        var newer = snapshot("torn", 200, 900); // the same number of chunks: every chunk key is overwritten

        var read = readerInterruptedBy(newer).readSnapshot("torn").orElseThrow();

        // state 200 under sequence 100 would make Axon apply events 101..200 a second time
        assertConsistent(read, newer);
    }

    @Test
    void aShorterNewerSnapshotNeverReadsTheOlderOnesTrailingChunks() {
        writer.storeSnapshot(snapshot("shorter", 100, 900));
        var newer = snapshot("shorter", 200, 500); // 2 chunks where the older one had 3

        var read = readerInterruptedBy(newer).readSnapshot("shorter").orElseThrow();

        assertConsistent(read, newer);
        assertConsistent(writer.readSnapshot("shorter").orElseThrow(), newer);
    }

    @Test
    void aNewerSnapshotDeletesTheChunksOfTheOneItReplaces() {
        writer.storeSnapshot(snapshot("tidy", 100, 900));
        assertThat(storedItems("tidy")).hasSize(4); // header and 3 chunks

        writer.storeSnapshot(snapshot("tidy", 200, 500));
        assertThat(storedItems("tidy")).hasSize(3);

        var small = snapshot("tidy", 300, 1);
        writer.storeSnapshot(small);
        assertThat(storedItems("tidy")).singleElement().satisfies(header -> assertThat(header.get("sk").n()).isEqualTo("0"));
        assertConsistent(writer.readSnapshot("tidy").orElseThrow(), small);
    }

    @Test
    void anOlderSnapshotNeitherReplacesANewerOneNorDeletesItsChunks() {
        var newer = snapshot("late", 200, 900);
        writer.storeSnapshot(newer);
        writer.storeSnapshot(snapshot("late", 100, 500));
        writer.storeSnapshot(snapshot("late", 200, 500));

        assertThat(storedItems("late")).hasSize(4);
        assertConsistent(writer.readSnapshot("late").orElseThrow(), newer);
    }

    @Test
    void aSnapshotWithAMissingChunkIsNotUsedSoTheAggregateIsLoadedFromItsEvents() {
        writer.storeSnapshot(snapshot("damaged", 100, 900));
        var lastChunk = storedItems("damaged").stream().filter(item -> !item.get("sk").n().equals("0"))
                .reduce((first, second) -> second).orElseThrow();
        TestTables.dynamoDb().deleteItem(b -> b.tableName(tables.name(DagyTable.SNAPSHOTS))
                .key(Map.of("pk", lastChunk.get("pk"), "sk", lastChunk.get("sk"))));

        assertThat(writer.readSnapshot("damaged")).isEmpty();
    }

    @Test
    void aSnapshotStoredInTheEarlierLayoutIsReadAndItsChunksGoWithTheNextSnapshot() {
        // the layout before chunks belonged to their snapshot: chunks at sk 1..n, a header naming only their count
        byte[] stored = serializer.serialize(new State(50, "earlier".repeat(200_000).getBytes()), byte[].class).getData();
        byte[] compressed = Compression.gzip(stored);
        int half = compressed.length / 2;
        String table = tables.name(DagyTable.SNAPSHOTS);
        Map<String, AttributeValue> header = new HashMap<>(Map.of("pk", AttributeValue.fromS("earlier"),
                "sk", AttributeValue.fromN("0"), "eid", AttributeValue.fromS("e-50"),
                "ts", AttributeValue.fromS("2026-01-01T00:00:00Z"), "pt", AttributeValue.fromS(State.class.getName()),
                "p", AttributeValue.fromB(SdkBytes.fromByteArray(new byte[0])),
                "m", AttributeValue.fromB(SdkBytes.fromByteArray("{}".getBytes())), "z", AttributeValue.fromS("p"),
                "agg", AttributeValue.fromS("earlier"), "seq", AttributeValue.fromN("50")));
        header.put("at", AttributeValue.fromS("Blob"));
        header.put("chunks", AttributeValue.fromN("2"));
        TestTables.dynamoDb().putItem(b -> b.tableName(table).item(header));
        for (int chunk = 1; chunk <= 2; chunk++) {
            byte[] part = java.util.Arrays.copyOfRange(compressed, (chunk - 1) * half, chunk == 1 ? half : compressed.length);
            int sk = chunk;
            TestTables.dynamoDb().putItem(b -> b.tableName(table).item(Map.of("pk", AttributeValue.fromS("earlier"),
                    "sk", AttributeValue.fromN(Integer.toString(sk)), "p", AttributeValue.fromB(SdkBytes.fromByteArray(part)))));
        }

        var earlier = writer.readSnapshot("earlier").orElseThrow();
        assertThat(earlier.getSequenceNumber()).isEqualTo(50);
        assertThat(((State) earlier.getPayload()).takenAt()).isEqualTo(50);

        var newer = snapshot("earlier", 60, 500);
        writer.storeSnapshot(newer);
        assertThat(storedItems("earlier")).hasSize(3); // the new header and its 2 chunks; the earlier chunks are gone
        assertConsistent(writer.readSnapshot("earlier").orElseThrow(), newer);
    }
}
