package io.dagy.gateway.axon;

import io.dagy.gateway.DagyApplication;
import io.dagy.testdomain.Counter;
import io.dagy.testdomain.CounterSaga;
import io.dagy.testdomain.FlakyListener;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.modelling.saga.repository.SagaStore;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;

import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** An Axon aggregate and a saga running on the DynamoDB stores inside the Spring application. */
@SpringBootTest(classes = DagyApplication.class)
@ActiveProfiles({"local", "test"})
@Import({Counter.class, CounterSaga.class, FlakyListener.class})
class AxonOnDynamoTest {

    @Autowired
    CommandGateway commands;

    @Autowired
    EmbeddedEventStore eventStore;

    @Autowired
    EventStorageEngine storageEngine;

    @Autowired
    TokenStore tokenStore;

    @Autowired
    SagaStore<Object> sagaStore;

    @Test
    void theApplicationRunsOnTheDynamoDbStores() {
        assertThat(storageEngine).isInstanceOf(io.dagy.eventstore.events.DynamoEventStorageEngine.class);
        assertThat(tokenStore).isInstanceOf(io.dagy.eventstore.tokens.DynamoTokenStore.class);
        assertThat(sagaStore).isInstanceOf(io.dagy.eventstore.sagas.DynamoSagaStore.class);
    }

    @Test
    void anAggregatesEventsAreStoredAndASagaReactsToThem() {
        String id = "close-at-3-" + UUID.randomUUID();
        commands.sendAndWait(new Counter.OpenCounter(id, 0));
        for (int i = 0; i < 3; i++) {
            commands.sendAndWait(new Counter.Increment(id));
        }

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                storageEngine.readEvents(id, 0).asStream().map(e -> e.getPayload()).toList())
                .last().isEqualTo(new Counter.CounterClosed(id, 3)));
    }

    /** Axon's default would log the failure and move on: the event would be lost to this handler. */
    @Test
    void aHandlerThatFailsGetsTheEventAgainRatherThanSkippingIt() {
        String id = "flaky-" + UUID.randomUUID();
        commands.sendAndWait(new Counter.OpenCounter(id, 0));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(FlakyListener.CALLS.get(id)).isEqualTo(2));
    }

    @Test
    void concurrentCommandsOnOneAggregateAllSucceedThroughTheGatewaysRetries() {
        String id = "counter-" + UUID.randomUUID();
        commands.sendAndWait(new Counter.OpenCounter(id, 0));
        var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            var sent = java.util.stream.IntStream.range(0, 8)
                    .mapToObj(i -> java.util.concurrent.CompletableFuture.runAsync(
                            () -> commands.sendAndWait(new Counter.Increment(id)), pool))
                    .toList();
            sent.forEach(java.util.concurrent.CompletableFuture::join);
        } finally {
            pool.shutdown();
        }

        assertThat(storageEngine.readEvents(id, 0).asStream().filter(e -> e.getPayload() instanceof Counter.Incremented)
                .map(e -> ((Counter.Incremented) e.getPayload()).count()).toList())
                .containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
    }

    @Test
    void aSagaDeadlineFiresFromTheDynamoDbDeadlineManager() {
        String id = "counter-" + UUID.randomUUID();
        commands.sendAndWait(new Counter.OpenCounter(id, 300));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                storageEngine.readEvents(id, 0).asStream().map(e -> e.getPayload()).toList())
                .last().isEqualTo(new Counter.CounterClosed(id, 0)));
    }

    @Test
    void anAggregateIsSnapshottedAfterTheConfiguredNumberOfEvents() {
        String id = "counter-" + UUID.randomUUID();
        commands.sendAndWait(new Counter.OpenCounter(id, 0));
        for (int i = 0; i < 2; i++) {
            commands.sendAndWait(new Counter.Increment(id));
        }
        assertThat(storageEngine.readSnapshot(id)).isEmpty();
        for (int i = 0; i < 6; i++) {
            commands.sendAndWait(new Counter.Increment(id));
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> storageEngine.readSnapshot(id).isPresent());
        assertThat(storageEngine.readSnapshot(id).orElseThrow().getSequenceNumber()).isGreaterThanOrEqualTo(4);
    }
}
