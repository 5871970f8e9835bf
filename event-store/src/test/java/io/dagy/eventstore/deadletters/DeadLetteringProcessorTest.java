package io.dagy.eventstore.deadletters;

import io.dagy.eventstore.events.DynamoEventStorageEngine;
import io.dagy.eventstore.events.EventStoreSettings;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.eventstore.tx.DynamoWrites;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.deadletter.DeadLetteringEventHandlerInvoker;
import org.axonframework.eventhandling.pooled.PooledStreamingEventProcessor;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Axon's pooled processor with the dead-lettering invoker, {@link RetryThenPark} and {@link EventSavepoints} on the
 * DynamoDB stores: an event whose handler keeps failing is parked with its sequence after a bounded retry, the other
 * sequences of its segment go on, and a retry after the fix handles the parked events in order.
 */
class DeadLetteringProcessorTest {

    private static final String PROCESSOR = "views";
    private static final int ATTEMPTS = 2;

    record Happened(String run, int n) {
    }

    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS, DagyTable.TOKENS,
            DagyTable.DEAD_LETTERS, DagyTable.RUNS);
    private final EmbeddedEventStore eventStore = EmbeddedEventStore.builder()
            .storageEngine(DynamoEventStorageEngine.builder()
                    .dynamoDb(TestTables.dynamoDb())
                    .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                    .settings(EventStoreSettings.defaults().withShards(1))
                    .eventSerializer(TestSerializer.jackson())
                    .snapshotSerializer(TestSerializer.jackson())
                    .build())
            .fetchDelay(50)
            .build();
    private final DynamoSequencedDeadLetterQueue queue = DynamoSequencedDeadLetterQueue.builder()
            .dynamoDb(TestTables.dynamoDb())
            .table(tables.name(DagyTable.DEAD_LETTERS))
            .processingGroup(PROCESSOR)
            .eventSerializer(TestSerializer.jackson())
            .serializer(TestSerializer.jackson())
            .build();
    private final List<PooledStreamingEventProcessor> processors = new ArrayList<>();

    @AfterEach
    void stop() {
        processors.forEach(PooledStreamingEventProcessor::shutDown);
        eventStore.shutDown();
    }

    /** A view that writes a row per event, and fails for the runs it is told to (before or after writing). */
    class RunView {
        final List<String> handled = new CopyOnWriteArrayList<>();
        final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        final Map<String, RuntimeException> failFor = new ConcurrentHashMap<>();
        final Map<String, Integer> failuresLeft = new ConcurrentHashMap<>();

        @EventHandler
        void on(Happened event, DomainEventMessage<?> message) {
            String key = event.run() + ":" + event.n();
            calls.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            Map<String, AttributeValue> row = Map.of("pk", AttributeValue.fromS("run#" + event.run()),
                    "sk", AttributeValue.fromS(String.format("%05d", event.n())));
            DynamoWrites.put(TestTables.dynamoDb(), tables.name(DagyTable.RUNS), row, row);
            RuntimeException failure = failFor.get(event.run());
            if (failure != null && failuresLeft.merge(event.run(), -1, Integer::sum) >= 0) {
                throw failure;
            }
            handled.add(key);
        }

        int calls(String run, int n) {
            AtomicInteger count = calls.get(run + ":" + n);
            return count == null ? 0 : count.get();
        }
    }

    private DeadLetteringEventHandlerInvoker start(RunView view) {
        DynamoTransactionManager transactions = new DynamoTransactionManager(TestTables.dynamoDb());
        DeadLetteringEventHandlerInvoker invoker = DeadLetteringEventHandlerInvoker.builder()
                .eventHandlers(view)
                .queue(queue)
                .enqueuePolicy(new RetryThenPark(ATTEMPTS))
                .transactionManager(transactions)
                .build();
        PooledStreamingEventProcessor processor = PooledStreamingEventProcessor.builder()
                .name(PROCESSOR)
                .eventHandlerInvoker(invoker)
                .messageSource(eventStore)
                .tokenStore(new DynamoTokenStore(TestTables.dynamoDb(), tables.name(DagyTable.TOKENS),
                        TestSerializer.jackson(), "node-a", Duration.ofSeconds(10), Clock.systemUTC()))
                .transactionManager(transactions)
                .coordinatorExecutor(Executors.newSingleThreadScheduledExecutor())
                .workerExecutor(Executors.newScheduledThreadPool(2))
                .initialSegmentCount(1)
                .batchSize(16)
                .tokenClaimInterval(100)
                .build();
        processor.registerHandlerInterceptor(EventSavepoints.interceptor(PROCESSOR));
        processors.add(processor);
        processor.start();
        return invoker;
    }

    private void publish(String run, int... ns) {
        List<EventMessage<?>> events = new ArrayList<>();
        for (int n : ns) {
            events.add(new GenericDomainEventMessage<>("Run", run, n, new Happened(run, n)));
        }
        eventStore.publish(events);
    }

    private boolean rowExists(String run, int n) {
        var item = TestTables.dynamoDb().getItem(b -> b.tableName(tables.name(DagyTable.RUNS)).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS("run#" + run), "sk", AttributeValue.fromS(String.format("%05d", n)))))
                .item();
        return item != null && !item.isEmpty();
    }

    @Test
    void aPoisonedRunIsParkedAfterItsAttemptsWhileAnotherRunInTheSameSegmentGoesOnAndARetryAfterTheFixHandlesItInOrder() {
        String poisoned = "r-poisoned-" + UUID.randomUUID();
        String healthy = "r-healthy-" + UUID.randomUUID();
        RunView view = new RunView();
        view.failFor.put(poisoned, new IllegalStateException("the view cannot read run " + poisoned));
        view.failuresLeft.put(poisoned, Integer.MAX_VALUE);
        DeadLetteringEventHandlerInvoker invoker = start(view);

        publish(poisoned, 0, 1);
        publish(healthy, 0, 1, 2);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(view.handled).containsExactly(healthy + ":0", healthy + ":1", healthy + ":2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> queue.sequenceSize(poisoned) == 2);
        assertThat(view.calls(poisoned, 0)).as("tried %d times, then parked", ATTEMPTS).isEqualTo(ATTEMPTS);
        assertThat(view.calls(poisoned, 1)).as("parked behind the first without being handled").isZero();
        assertThat(rowExists(poisoned, 0)).as("what the failing handler wrote before it failed is dropped").isFalse();
        assertThat(rowExists(healthy, 2)).isTrue();
        var parked = queue.sequence(poisoned).orElseThrow();
        assertThat(parked.head().cause().orElseThrow().message()).isEqualTo("the view cannot read run " + poisoned);
        assertThat(parked.head().diagnostics().get(RetryThenPark.ATTEMPTS)).isEqualTo(ATTEMPTS);
        assertThat(java.time.Instant.parse((String) parked.head().diagnostics().get(RetryThenPark.FIRST_FAILED_AT)))
                .isBefore(parked.head().enqueuedAt());

        publish(poisoned, 2);
        await().atMost(Duration.ofSeconds(10)).until(() -> queue.sequenceSize(poisoned) == 3);
        view.failFor.remove(poisoned);

        assertThat(invoker.process(letter -> true)).isTrue();

        assertThat(view.handled).containsSubsequence(poisoned + ":0", poisoned + ":1", poisoned + ":2");
        assertThat(rowExists(poisoned, 0)).isTrue();
        assertThat(queue.contains(poisoned)).isFalse();
        publish(poisoned, 3);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(view.handled).endsWith(poisoned + ":3"));
    }

    @Test
    void aTransientFailureIsRetriedBeyondTheAttemptsAndNeverParked() {
        String run = "r-throttled-" + UUID.randomUUID();
        RunView view = new RunView();
        view.failFor.put(run, SdkClientException.create("Unable to execute HTTP request: connection reset"));
        view.failuresLeft.put(run, ATTEMPTS);
        start(view);

        publish(run, 0);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(view.handled).containsExactly(run + ":0"));
        assertThat(view.calls(run, 0)).isEqualTo(ATTEMPTS + 1);
        assertThat(queue.size()).isZero();
    }
}
