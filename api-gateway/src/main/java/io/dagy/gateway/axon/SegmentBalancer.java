package io.dagy.gateway.axon;

import io.dagy.eventstore.tokens.DynamoTokenStore;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Shares the processors' segments among the live nodes. Axon's pooled processors claim every unclaimed segment they
 * see, so the first node would keep all of them and a second would never get one. Each node therefore announces
 * itself in the token table ({@code pk = nodes}, one item per node, a heartbeat every {@code interval}) and, for every
 * processor, releases the segments it holds beyond its fair share, {@code ceil(segments / live nodes)}; the other
 * nodes' coordinators claim them within their idle wait. A node whose heartbeat is older than three intervals counts
 * as gone, and its segments are taken over once its claims expire (the token store's claim timeout).
 *
 * <p>A released segment is kept away from this node only for {@code releaseHold} (a few idle waits of the processors):
 * long enough for a live node to claim it, short enough that a segment nobody claims is soon processed here again. A
 * node killed a moment ago still counts as live until its heartbeat is three intervals old, so the survivors release
 * segments "for" it; kept away for three intervals, as they once were, such segments lay idle for up to 30 s after
 * the takeover (found by the multi-node kill test, benchmarks/README.md).
 *
 * <p>Cost per node: one put and one query every interval, plus one segment listing per processor.
 */
final class SegmentBalancer implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(SegmentBalancer.class);
    private static final String NODES = "nodes";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final String nodeId;
    private final EventProcessingConfiguration processing;
    private final DynamoTokenStore tokenStore;
    private final Duration interval;
    private final Duration releaseHold;
    private final Clock clock;
    private ScheduledExecutorService scheduler;

    SegmentBalancer(DynamoDbClient dynamoDb, String table, String nodeId, EventProcessingConfiguration processing,
                    DynamoTokenStore tokenStore, Duration interval, Duration releaseHold, Clock clock) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.nodeId = nodeId;
        this.processing = processing;
        this.tokenStore = tokenStore;
        this.interval = interval;
        this.releaseHold = releaseHold;
        this.clock = clock;
    }

    /** The nodes whose heartbeat is recent, this one included. */
    int liveNodes() {
        long oldest = clock.millis() - 3 * interval.toMillis();
        long live = dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true)
                        .keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(NODES)))).items().stream()
                .filter(item -> Long.parseLong(item.get("heartbeat").n()) >= oldest)
                .count();
        return (int) Math.max(1, live);
    }

    void heartbeat() {
        dynamoDb.putItem(b -> b.tableName(table).item(Map.of(
                "pk", AttributeValue.fromS(NODES),
                "sk", AttributeValue.fromN(Long.toString(sortKey(nodeId))),
                "node", AttributeValue.fromS(nodeId),
                "heartbeat", AttributeValue.fromN(Long.toString(clock.millis())))));
    }

    /** Releases what this node holds beyond its fair share of every processor's segments. */
    void balance() {
        int nodes = liveNodes();
        processing.eventProcessors().values().stream()
                .filter(StreamingEventProcessor.class::isInstance).map(StreamingEventProcessor.class::cast)
                .forEach(processor -> {
                    int segments = tokenStore.storedTokens(processor.getName()).size();
                    int fairShare = (segments + nodes - 1) / nodes;
                    List<Integer> held = processor.processingStatus().keySet().stream().sorted().toList();
                    for (int i = fairShare; i < held.size(); i++) {
                        log.info("Releasing segment {} of {} ({} held, fair share {} of {} over {} nodes)",
                                held.get(i), processor.getName(), held.size(), fairShare, segments, nodes);
                        // kept away from this node for a moment, so that a live node claims it first
                        processor.releaseSegment(held.get(i), releaseHold.toMillis(), TimeUnit.MILLISECONDS);
                    }
                });
    }

    private void tick() {
        try {
            heartbeat();
            balance();
        } catch (RuntimeException e) {
            log.warn("Segment balancing failed this time: {}", e.toString());
        }
    }

    /** Node ids are strings; the token table's sort key is a number: a stable 63-bit hash of the id. */
    static long sortKey(String nodeId) {
        long hash = 1125899906842597L;
        for (byte b : nodeId.getBytes(StandardCharsets.UTF_8)) {
            hash = 31 * hash + b;
        }
        return hash & Long.MAX_VALUE;
    }

    @Override
    public void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "segment-balancer");
            thread.setDaemon(true);
            return thread;
        });
        scheduler.scheduleWithFixedDelay(this::tick, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
            try {
                // gone at once for the others, rather than after three intervals
                dynamoDb.deleteItem(b -> b.tableName(table).key(Map.of("pk", AttributeValue.fromS(NODES),
                        "sk", AttributeValue.fromN(Long.toString(sortKey(nodeId))))));
            } catch (RuntimeException e) {
                log.debug("Could not remove this node's heartbeat: {}", e.toString());
            }
        }
    }

    @Override
    public boolean isRunning() {
        return scheduler != null;
    }

    /** After the processors start, before they stop. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 100;
    }
}
