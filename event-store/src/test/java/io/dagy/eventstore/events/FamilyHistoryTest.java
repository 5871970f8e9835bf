package io.dagy.eventstore.events;

import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.upcasting.event.NoOpEventUpcaster;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/** A family's history read from its shard: complete, in stored order, and never past an append in flight. */
class FamilyHistoryTest {

    record Noted(String aggregate, long step) {
    }

    private final Serializer serializer = TestSerializer.jackson();
    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS);
    /** One shard, so the family shares it with its neighbours; small buckets, so a history spans several. */
    private final EventStoreSettings settings = EventStoreSettings.defaults().withShards(1).withBucketSize(100);
    private static final UnaryOperator<String> RUN_OF = id -> id.contains("/") ? id.substring(0, id.indexOf('/')) : id;
    private final FamilyHistory history = new FamilyHistory(TestTables.dynamoDb(), tables.name(DagyTable.EVENTS),
            settings, serializer, NoOpEventUpcaster.INSTANCE);

    private DynamoEventStorageEngine engine(DynamoEventStorageEngine.AppendHook hook) {
        return DynamoEventStorageEngine.builder()
                .dynamoDb(TestTables.dynamoDb())
                .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                .settings(settings)
                .placement(RUN_OF)
                .eventSerializer(serializer)
                .snapshotSerializer(serializer)
                .appendHook(hook)
                .build();
    }

    private static DomainEventMessage<Noted> event(String aggregate, long sequence) {
        return new GenericDomainEventMessage<>("Noted", aggregate, sequence, new Noted(aggregate, sequence));
    }

    @Test
    void aFamilysEventsComeInStoredOrderAcrossBucketsAndWithoutItsNeighbours() {
        DynamoEventStorageEngine engine = engine(DynamoEventStorageEngine.AppendHook.NONE);
        List<String> expected = new ArrayList<>();
        engine.appendEvents(List.of(event("r1", 0)));
        expected.add("r1:0");
        for (int step = 0; step < 70; step++) {
            // neighbours whose ids start like the family's belong to other families
            engine.appendEvents(List.of(event("r10", step), event("r1x/a", step)));
            String member = step % 2 == 0 ? "r1/a" : "r1/b";
            engine.appendEvents(List.of(event(member, step / 2)));
            expected.add(member + ":" + step / 2);
        }
        engine.appendEvents(List.of(event("r1", 1)));
        expected.add("r1:1");

        FamilyHistory.Origin origin = history.origin("r1").orElseThrow();
        List<String> read = new ArrayList<>();
        List<Long> positions = new ArrayList<>();
        long after = 0;
        FamilyHistory.Page page;
        do {
            page = history.read("r1", origin, after, 7, 1_000);
            page.events().forEach(placed -> {
                read.add(placed.event().getAggregateIdentifier() + ":" + placed.event().getSequenceNumber());
                positions.add(placed.position());
            });
            after = page.resolved();
        } while (!page.atEnd());

        assertThat(read).containsExactlyElementsOf(expected);
        assertThat(positions).isSorted().doesNotHaveDuplicates();
        assertThat(positions.get(positions.size() - 1)).isGreaterThan(200); // it crossed buckets
        assertThat(history.rootEvents("r1")).extracting(FamilyHistory.Placed::position)
                .containsExactly(positions.get(0), positions.get(positions.size() - 1));
    }

    @Test
    void aReaderStopsBeforeAnAppendInFlightAndGetsItOnceWritten() throws Exception {
        DynamoEventStorageEngine engine = engine(DynamoEventStorageEngine.AppendHook.NONE);
        engine.appendEvents(List.of(event("r2", 0)));
        CountDownLatch reserved = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DynamoEventStorageEngine slow = engine((first, counts) -> {
            reserved.countDown();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> inFlight = pool.submit(() -> slow.appendEvents(List.of(event("r2/a", 0))));
            assertThat(reserved.await(10, TimeUnit.SECONDS)).isTrue();
            engine.appendEvents(List.of(event("r2/b", 0))); // written after the position reserved before it

            FamilyHistory.Origin origin = history.origin("r2").orElseThrow();
            FamilyHistory.Page before = history.read("r2", origin, 0, 100, 1_000);
            release.countDown();
            inFlight.get(20, TimeUnit.SECONDS);
            FamilyHistory.Page after = history.read("r2", origin, before.resolved(), 100, 1_000);

            assertThat(before.atEnd()).isTrue();
            assertThat(before.events()).extracting(placed -> placed.event().getAggregateIdentifier())
                    .containsExactly("r2");
            assertThat(after.events()).extracting(placed -> placed.event().getAggregateIdentifier())
                    .containsExactly("r2/a", "r2/b");
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void anAggregateWithoutEventsHasNoHistory() {
        assertThat(history.origin("r-none")).isEmpty();
    }
}
