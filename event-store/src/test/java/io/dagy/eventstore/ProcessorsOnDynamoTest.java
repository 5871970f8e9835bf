package io.dagy.eventstore;

import io.dagy.eventstore.events.DynamoEventStorageEngine;
import io.dagy.eventstore.events.EventStoreSettings;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.SimpleEventHandlerInvoker;
import org.axonframework.eventhandling.pooled.PooledStreamingEventProcessor;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.messaging.annotation.MetaDataValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Axon's pooled streaming processors running on the DynamoDB event store, token store and transaction manager.
 */
class ProcessorsOnDynamoTest {

    record Happened(int n) {
    }

    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS, DagyTable.TOKENS,
            DagyTable.SAGAS);
    private final EmbeddedEventStore eventStore = EmbeddedEventStore.builder()
            .storageEngine(DynamoEventStorageEngine.builder()
                    .dynamoDb(TestTables.dynamoDb())
                    .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                    .settings(EventStoreSettings.defaults().withShards(2))
                    .eventSerializer(TestSerializer.jackson())
                    .snapshotSerializer(TestSerializer.jackson())
                    .build())
            .fetchDelay(50)
            .build();
    private final List<PooledStreamingEventProcessor> processors = new ArrayList<>();

    @AfterEach
    void stop() {
        processors.forEach(PooledStreamingEventProcessor::shutDown);
        eventStore.shutDown();
    }

    /**
     * A projection-like handler whose effect is not idempotent on its own: it adds one to a per-event counter item,
     * inside the processor's DynamoDB transaction. Redelivery after a lost token would count an event twice.
     */
    class CountingHandler {
        final Map<String, String> handledBy = new ConcurrentHashMap<>();
        final AtomicInteger calls = new AtomicInteger();
        final String node;

        CountingHandler(String node) {
            this.node = node;
        }

        @EventHandler
        void on(Happened event, EventMessage<?> message) {
            calls.incrementAndGet();
            handledBy.put(message.getIdentifier(), node);
            Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromS("count#" + message.getIdentifier()),
                    "sk", AttributeValue.fromS("count"));
            DynamoTransaction transaction = DynamoTransactionManager.current().orElseThrow();
            transaction.write(new DynamoTransaction.ItemKey(tables.name(DagyTable.SAGAS), key),
                    TransactWriteItem.builder().update(Update.builder().tableName(tables.name(DagyTable.SAGAS)).key(key)
                            .updateExpression("ADD times :one")
                            .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))).build()).build(),
                    IllegalStateException::new);
            CrashingTransactions.effectWritten();
        }
    }

    private int timesCounted(EventMessage<?> event) {
        var item = TestTables.dynamoDb().getItem(b -> b.tableName(tables.name(DagyTable.SAGAS)).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS("count#" + event.getIdentifier()), "sk", AttributeValue.fromS("count"))))
                .item();
        return item == null || item.isEmpty() ? 0 : Integer.parseInt(item.get("times").n());
    }

    private PooledStreamingEventProcessor processor(String node, Object handler, TransactionManager transactions,
                                                    int segments, int maxClaimed) {
        var tokenStore = new DynamoTokenStore(TestTables.dynamoDb(), tables.name(DagyTable.TOKENS),
                TestSerializer.jackson(), node, Duration.ofSeconds(10), Clock.systemUTC());
        var processor = PooledStreamingEventProcessor.builder()
                .name("counting")
                .eventHandlerInvoker(SimpleEventHandlerInvoker.builder().eventHandlers(handler).build())
                .messageSource(eventStore)
                .tokenStore(tokenStore)
                .transactionManager(transactions)
                .coordinatorExecutor(Executors.newSingleThreadScheduledExecutor())
                .workerExecutor(Executors.newScheduledThreadPool(2))
                .initialSegmentCount(segments)
                .maxClaimedSegments(maxClaimed)
                .tokenClaimInterval(100)
                .build();
        processors.add(processor);
        processor.start();
        return processor;
    }

    private List<EventMessage<?>> publish(int count) {
        List<EventMessage<?>> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            events.add(GenericEventMessage.asEventMessage(new Happened(i)));
        }
        eventStore.publish(events);
        return events;
    }

    @Test
    void effectsAndTokenCommitTogetherSoACrashAroundTheCommitNeitherLosesNorRepeatsAnEffect() {
        var crashing = new CrashingTransactions(new DynamoTransactionManager(TestTables.dynamoDb()), 2, 2);
        var handler = new CountingHandler("a");
        processor("a", handler, crashing, 1, 16);

        List<EventMessage<?>> events = publish(10);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(events).allSatisfy(e -> assertThat(timesCounted(e)).isEqualTo(1)));
        assertThat(crashing.crashesBefore.get()).isZero();
        assertThat(crashing.crashesAfter.get()).isZero();
        assertThat(handler.calls.get()).isGreaterThan(events.size()); // events were redelivered, effects were not repeated
    }

    /**
     * Axon's pooled processor filters events of a merged segment by segment only, so events that one half had already
     * handled and the other half's token does not cover are delivered again after a merge (the tracking processor
     * consults both halves; the pooled one does not). Events before the split and after the merge are handled once.
     */
    @Test
    void aPooledProcessorSplitsAndMergesSegmentsAndHandlesEveryEvent() throws Exception {
        var handler = new CountingHandler("a");
        var processor = processor("a", handler, new DynamoTransactionManager(TestTables.dynamoDb()), 2, 16);
        List<EventMessage<?>> before = publish(10);
        await().atMost(Duration.ofSeconds(20)).until(() -> handler.handledBy.size() == 10);

        assertThat(processor.splitSegment(0).get(20, TimeUnit.SECONDS)).isTrue();
        assertThat(tokenStoreView().fetchSegments("counting")).containsExactly(0, 1, 2);
        List<EventMessage<?>> between = publish(10);
        await().atMost(Duration.ofSeconds(20)).until(() -> handler.handledBy.size() == 20);
        await().atMost(Duration.ofSeconds(20)).until(() -> processor.processingStatus().size() == 3);
        assertThat(processor.mergeSegment(0).get(20, TimeUnit.SECONDS)).isTrue();
        assertThat(tokenStoreView().fetchSegments("counting")).containsExactly(0, 1);
        List<EventMessage<?>> after = publish(10);

        await().atMost(Duration.ofSeconds(20)).until(() -> handler.handledBy.size() == 30);
        for (List<EventMessage<?>> events : List.of(before, after)) {
            assertThat(events).allSatisfy(e -> assertThat(timesCounted(e)).isEqualTo(1));
        }
        assertThat(between).allSatisfy(e -> assertThat(timesCounted(e)).isBetween(1, 2));
    }

    @Test
    void twoProcessorInstancesShareTheSegmentsAndEachEventIsHandledOnce() {
        var handlerA = new CountingHandler("a");
        var handlerB = new CountingHandler("b");
        processor("a", handlerA, new DynamoTransactionManager(TestTables.dynamoDb()), 4, 2);
        processor("b", handlerB, new DynamoTransactionManager(TestTables.dynamoDb()), 4, 2);

        List<EventMessage<?>> events = publish(60);

        await().atMost(Duration.ofSeconds(30)).until(() -> handlerA.handledBy.size() + handlerB.handledBy.size() == 60);
        assertThat(handlerA.handledBy).isNotEmpty();
        assertThat(handlerB.handledBy).isNotEmpty();
        assertThat(Set.copyOf(handlerA.handledBy.keySet())).doesNotContainAnyElementsOf(handlerB.handledBy.keySet());
        assertThat(events).allSatisfy(e -> assertThat(timesCounted(e)).isEqualTo(1));
    }

    private DynamoTokenStore tokenStoreView() {
        return new DynamoTokenStore(TestTables.dynamoDb(), tables.name(DagyTable.TOKENS), TestSerializer.jackson(),
                "observer", Duration.ofSeconds(10), Clock.systemUTC());
    }

    /**
     * Crashes the commit of transactions that carry a handler's effect: first some before anything is written, then
     * some after DynamoDB has written everything but before the processor hears of it (a lost response).
     */
    static final class CrashingTransactions implements TransactionManager {
        private static final ThreadLocal<Boolean> EFFECT = ThreadLocal.withInitial(() -> false);
        final AtomicInteger crashesBefore;
        final AtomicInteger crashesAfter;
        private final TransactionManager delegate;

        CrashingTransactions(TransactionManager delegate, int before, int after) {
            this.delegate = delegate;
            this.crashesBefore = new AtomicInteger(before);
            this.crashesAfter = new AtomicInteger(after);
        }

        static void effectWritten() {
            EFFECT.set(true);
        }

        @Override
        public Transaction startTransaction() {
            Transaction transaction = delegate.startTransaction();
            return new Transaction() {
                @Override
                public void commit() {
                    boolean effect = EFFECT.get();
                    EFFECT.remove();
                    if (effect && crashesBefore.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        throw new IllegalStateException("crash before the commit");
                    }
                    transaction.commit();
                    if (effect && crashesAfter.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        throw new IllegalStateException("crash after the commit, before the processor knew");
                    }
                }

                @Override
                public void rollback() {
                    EFFECT.remove();
                    transaction.rollback();
                }
            };
        }
    }
}
