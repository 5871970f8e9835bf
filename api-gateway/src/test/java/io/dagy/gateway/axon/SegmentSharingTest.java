package io.dagy.gateway.axon;

import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Nodes on one set of tables share the processors' segments: a second node gets half of them from the first, and
 * when a node goes, the other takes its segments over; segments given up for a node that never claims them (it died
 * a moment ago) are soon processed again.
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

    /**
     * A node killed a moment ago still counts as live until its heartbeat is three intervals old, so a survivor gives
     * up segments for it that nobody will claim. They were kept from the survivor for three intervals (30 s by
     * default) and lay idle that long; they must be back in work within a few idle waits.
     */
    @Test
    void segmentsGivenUpForANodeThatDiedAMomentAgoAreSoonProcessedAgain() {
        String environment = "sharing-" + UUID.randomUUID().toString().substring(0, 8);
        try (ConfigurableApplicationContext node = start(environment, "10s")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> held(node) == 4);
            announce(node, "killed-a-moment-ago");
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> held(node) < 4);
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> held(node) == 4);
        }
    }

    /** The heartbeat a node leaves in the token table; this one's node never claims anything. */
    private static void announce(ConfigurableApplicationContext node, String nodeId) {
        node.getBean(DynamoDbClient.class).putItem(b -> b
                .tableName(node.getBean(DagyResources.class).table(DagyTable.TOKENS))
                .item(Map.of("pk", AttributeValue.fromS("nodes"),
                        "sk", AttributeValue.fromN(Long.toString(SegmentBalancer.sortKey(nodeId))),
                        "node", AttributeValue.fromS(nodeId),
                        "heartbeat", AttributeValue.fromN(Long.toString(System.currentTimeMillis())))));
    }

    private static int held(ConfigurableApplicationContext node) {
        return node.getBean(EventProcessingConfiguration.class)
                .eventProcessor(PROCESSOR, StreamingEventProcessor.class).orElseThrow().processingStatus().size();
    }

    private static ConfigurableApplicationContext start(String environment) {
        return start(environment, "1s");
    }

    private static ConfigurableApplicationContext start(String environment, String balanceInterval) {
        return new SpringApplicationBuilder(DagyApplication.class).profiles("local", "test").run(
                "--dagy.environment=" + environment, "--dagy.event-store.processor-segments=4",
                "--dagy.event-store.segment-balance-interval=" + balanceInterval);
    }
}
