package io.dagy.gateway.observability;

import io.dagy.eventstore.events.DynamoEventStorageEngine;
import io.dagy.eventstore.events.DynamoTrackingToken;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.WrappedToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How far each streaming processor is behind the store, read from the tables every poll (30 s; never on the hot path).
 * Our token is a position per shard (docs/event-store.md), so lag is defined per shard and summed:
 * <ul>
 *   <li><b>positions behind</b> ({@code dagy.processor.lag.events}): for each shard, the shard's head (the last
 *       reserved position) minus the lowest position any of the processor's segments has stored for that shard,
 *       summed over shards. Every segment reads every event of a shard, so the slowest segment is the processor's
 *       position. Positions that were reserved and never written (fenced) count too, so it is an upper bound on the
 *       events still to handle; it reads 0 exactly when the processor has handled everything appended by then.</li>
 *   <li><b>seconds behind</b> ({@code dagy.processor.lag.seconds}): the age of the oldest event not yet handled (the
 *       first event past the slowest segment's position, over all shards), 0 when nothing is behind. Ages come from
 *       event timestamps, so clocks of writing nodes that disagree shift it by their difference.</li>
 * </ul>
 * Stored tokens are what the gauges see: a processor's progress since its last token write (a batch in flight) is
 * not; a segment that had none of the latest events stores its position only at its next claim extension, so a
 * caught-up processor may show a little lag for a few seconds; a replaying processor counts its replay as lag. Cost per poll: one read per shard for the heads, one query
 * and one read per segment per processor, one query per lagging shard.
 */
final class ProcessorLag {

    static final String EVENTS_BEHIND = "dagy.processor.lag.events";
    static final String SECONDS_BEHIND = "dagy.processor.lag.seconds";

    private static final Logger log = LoggerFactory.getLogger(ProcessorLag.class);

    private final EventProcessingConfiguration processing;
    private final DynamoEventStorageEngine engine;
    private final DynamoTokenStore tokens;
    private final DynamoDbClient dynamoDb;
    private final String eventsTable;
    private final MeterRegistry registry;
    private final Clock clock;
    private final Map<String, Lag> lags = new ConcurrentHashMap<>();
    private boolean failing;

    record Lag(long events, double seconds) {
    }

    ProcessorLag(EventProcessingConfiguration processing, DynamoEventStorageEngine engine, DynamoTokenStore tokens,
                 DynamoDbClient dynamoDb, String eventsTable, MeterRegistry registry, Clock clock) {
        this.processing = processing;
        this.engine = engine;
        this.tokens = tokens;
        this.dynamoDb = dynamoDb;
        this.eventsTable = eventsTable;
        this.registry = registry;
        this.clock = clock;
    }

    /** Reads every processor's lag; called by the metrics poller. */
    void poll() {
        try {
            long[] head = ((DynamoTrackingToken) engine.createHeadToken()).positions();
            for (String name : processing.eventProcessors().keySet()) {
                if (processing.eventProcessor(name, StreamingEventProcessor.class).isEmpty()) {
                    continue;
                }
                Lag lag = lagOf(name, head);
                if (lags.put(name, lag) == null) {
                    Gauge.builder(EVENTS_BEHIND, () -> lags.get(name).events())
                            .description("Event positions a processor has not handled yet (an upper bound on events)")
                            .tag("processor", name).register(registry);
                    Gauge.builder(SECONDS_BEHIND, () -> lags.get(name).seconds())
                            .description("Age of the oldest event a processor has not handled yet")
                            .baseUnit("seconds").tag("processor", name).register(registry);
                }
            }
            failing = false;
        } catch (RuntimeException e) {
            if (!failing) {
                log.warn("Processor lag could not be read (the gauges keep their last values): {}", e.toString());
            }
            failing = true;
        }
    }

    Lag lagOf(String processor, long[] head) {
        long[] slowest = null;
        for (TrackingToken token : tokens.storedTokens(processor).values()) {
            long[] positions = positions(token);
            slowest = slowest == null ? positions : perShardMin(slowest, positions);
        }
        if (slowest == null) {
            return new Lag(0, 0);
        }
        long behind = 0;
        Instant oldest = null;
        for (int shard = 0; shard < head.length; shard++) {
            long at = shard < slowest.length ? slowest[shard] : 0;
            if (head[shard] > at) {
                behind += head[shard] - at;
                Instant first = firstEventAfter(shard, at);
                if (first != null && (oldest == null || first.isBefore(oldest))) {
                    oldest = first;
                }
            }
        }
        double seconds = oldest == null ? 0 : Math.max(0, clock.millis() - oldest.toEpochMilli()) / 1000.0;
        return new Lag(behind, seconds);
    }

    /** The timestamp of the first event (not fence) after {@code position} in its shard, if one is written yet. */
    private Instant firstEventAfter(int shard, long position) {
        long next = position + 1;
        int bucketSize = engine.settings().bucketSize();
        var items = dynamoDb.query(b -> b.tableName(eventsTable)
                .keyConditionExpression("pk = :pk AND sk >= :from")
                .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("stream#" + shard + "#" + next / bucketSize),
                        ":from", AttributeValue.fromN(Long.toString(next))))
                .projectionExpression("ts, fence").limit(10)).items();
        return items.stream().filter(item -> item.containsKey("ts")).findFirst()
                .map(item -> Instant.parse(item.get("ts").s())).orElse(null);
    }

    private static long[] positions(TrackingToken token) {
        TrackingToken lower = WrappedToken.unwrapLowerBound(token);
        return lower instanceof DynamoTrackingToken dynamo ? dynamo.positions() : new long[0];
    }

    private static long[] perShardMin(long[] a, long[] b) {
        long[] min = new long[Math.max(a.length, b.length)];
        for (int i = 0; i < min.length; i++) {
            min[i] = Math.min(i < a.length ? a[i] : 0, i < b.length ? b[i] : 0);
        }
        return min;
    }
}
