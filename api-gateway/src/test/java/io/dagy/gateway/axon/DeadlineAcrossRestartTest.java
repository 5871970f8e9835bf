package io.dagy.gateway.axon;

import io.dagy.gateway.DagyApplication;
import io.dagy.testdomain.Counter;
import io.dagy.testdomain.CounterSaga;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A deadline scheduled before the application stops fires after it starts again, on the same tables. */
class DeadlineAcrossRestartTest {

    @Test
    void aDeadlineScheduledBeforeAStopFiresAfterTheRestart() {
        String id = "counter-" + UUID.randomUUID();
        try (ConfigurableApplicationContext before = start()) {
            before.getBean(CommandGateway.class).sendAndWait(new Counter.OpenCounter(id, 3_000));
        }

        try (ConfigurableApplicationContext after = start()) {
            EmbeddedEventStore events = after.getBean(EmbeddedEventStore.class);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                    events.readEvents(id).asStream().map(e -> e.getPayload()).toList())
                    .last().isEqualTo(new Counter.CounterClosed(id, 0)));
        }
    }

    /** Both applications are one installation: the same tables before and after the restart. */
    private static final String ENVIRONMENT = "restart-" + UUID.randomUUID();

    private static ConfigurableApplicationContext start() {
        return new SpringApplicationBuilder(DagyApplication.class, Counter.class, CounterSaga.class)
                .profiles("local", "test")
                .run("--dagy.environment=" + ENVIRONMENT); // an argument outranks the test profile's own environment
    }
}
