package io.dagy.gateway.axon;

import io.dagy.gateway.DagyApplication;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Nodes on one set of tables share the processors' segments: a second node gets half of them from the first, and
 * when a node goes, the other takes its segments over.
 */
class SegmentSharingTest {

    private static final String PROCESSOR = "run-views";

    @Test
    void twoNodesShareTheSegmentsAndOneTakesAllWhenTheOtherGoes() {
        String environment = "sharing-" + UUID.randomUUID().toString().substring(0, 8);
        try (ConfigurableApplicationContext first = start(environment)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> held(first) == 4);
            try (ConfigurableApplicationContext second = start(environment)) {
                await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200))
                        .until(() -> held(first) == 2 && held(second) == 2);
            }
            await().atMost(Duration.ofSeconds(40)).until(() -> held(first) == 4);
        }
    }

    private static int held(ConfigurableApplicationContext node) {
        return node.getBean(EventProcessingConfiguration.class)
                .eventProcessor(PROCESSOR, StreamingEventProcessor.class).orElseThrow().processingStatus().size();
    }

    private static ConfigurableApplicationContext start(String environment) {
        return new SpringApplicationBuilder(DagyApplication.class).profiles("local", "test").run(
                "--dagy.environment=" + environment, "--dagy.event-store.processor-segments=4",
                "--dagy.event-store.segment-balance-interval=1s");
    }
}
