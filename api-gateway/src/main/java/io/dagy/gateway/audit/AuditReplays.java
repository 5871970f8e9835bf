package io.dagy.gateway.audit;

import io.dagy.projection.audit.AuditChain;
import io.dagy.projection.audit.AuditReplay;
import io.dagy.projection.usage.UsageAggregates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongSupplier;

/**
 * Replay jobs (decision 48): each runs {@link AuditReplay} on a background thread of this node (two at most at once),
 * and keeps its state in an item of the live audit table ({@code pk = audit-replay#<org>}, {@code sk = <job id>}), so
 * {@code GET} on any node shows its progress and outcome. Fresh tables are named after the live ones with
 * {@code -replay-<job id>}; they are deleted when the replay is identical and kept for inspection when it is not.
 */
final class AuditReplays {

    private static final Logger log = LoggerFactory.getLogger(AuditReplays.class);
    /** How long a replay waits for the live audit projection to reach its cut before comparing. */
    private static final Duration WAIT_FOR_LIVE = Duration.ofSeconds(60);

    /** A job as {@code GET} shows it. */
    record Job(String jobId, String org, String status, long eventsRead, long eventsTotal, Instant startedAt,
               Instant finishedAt, Boolean identical, Long organizationEvents, Long tookMillis,
               AuditReplay.AuditComparison audit, AuditReplay.UsageComparison usage, String error,
               java.util.List<String> keptTables) {
    }

    private final DynamoDbClient dynamoDb;
    private final AuditReplay replay;
    private final AuditReplay.Live live;
    private final LongSupplier eventsTotal;
    private final JsonMapper json;
    private final ExecutorService runner = Executors.newFixedThreadPool(2, runnable -> {
        Thread thread = new Thread(runnable, "dagy-audit-replay");
        thread.setDaemon(true);
        return thread;
    });

    AuditReplays(DynamoDbClient dynamoDb, AuditReplay replay, AuditReplay.Live live, LongSupplier eventsTotal,
                 JsonMapper json) {
        this.dynamoDb = dynamoDb;
        this.replay = replay;
        this.live = live;
        this.eventsTotal = eventsTotal;
        this.json = json;
    }

    Job start(String org) {
        String jobId = "rpl-" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        Job job = new Job(jobId, org, "running", 0, eventsTotal.getAsLong(), Instant.now(), null, null, null, null,
                null, null, null, null);
        save(job);
        runner.submit(() -> run(job));
        return job;
    }

    Optional<Job> find(String org, String jobId) {
        var item = dynamoDb.getItem(b -> b.tableName(live.chain().table()).consistentRead(true).key(key(org, jobId))).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(json.readValue(item.get("job").s(), Job.class));
    }

    private void run(Job started) {
        String suffix = "-replay-" + started.jobId().substring(4);
        AuditReplay.Tables tables = new AuditReplay.Tables(live.chain().table() + suffix, live.usageEventsTable() + suffix,
                live.aggregates().table() + suffix);
        Job job = started;
        try {
            replay.createTables(tables);
            Job progressing = job;
            AuditReplay.Result result = replay.run(started.org(), tables, live, read -> save(withRead(progressing, read)),
                    WAIT_FOR_LIVE);
            boolean identical = result.identical();
            if (identical) {
                replay.deleteTables(tables);
            }
            job = new Job(job.jobId(), job.org(), "completed", result.eventsRead(), Math.max(job.eventsTotal(), result.eventsRead()),
                    job.startedAt(), Instant.now(), identical, result.organizationEvents(), result.took().toMillis(),
                    result.audit(), result.usage(), null, identical ? null : tables.all());
            log.info("Audit replay {} of {}: {} events read in {} ms, identical: {}", job.jobId(), job.org(),
                    result.eventsRead(), result.took().toMillis(), identical);
        } catch (RuntimeException failure) {
            log.error("Audit replay {} of {} failed", job.jobId(), job.org(), failure);
            job = new Job(job.jobId(), job.org(), "failed", job.eventsRead(), job.eventsTotal(), job.startedAt(),
                    Instant.now(), null, null, null, null, null, failure.getClass().getSimpleName() + ": "
                    + failure.getMessage(), tables.all());
        }
        save(job);
    }

    private static Job withRead(Job job, long read) {
        return new Job(job.jobId(), job.org(), job.status(), read, Math.max(job.eventsTotal(), read), job.startedAt(),
                null, null, null, null, null, null, null, null);
    }

    private void save(Job job) {
        Map<String, AttributeValue> item = new HashMap<>(key(job.org(), job.jobId()));
        item.put("job", AttributeValue.fromS(json.writeValueAsString(job)));
        dynamoDb.putItem(b -> b.tableName(live.chain().table()).item(item));
    }

    private static Map<String, AttributeValue> key(String org, String jobId) {
        return Map.of("pk", AttributeValue.fromS("audit-replay#" + org), "sk", AttributeValue.fromS(jobId));
    }

    void shutdown() {
        runner.shutdownNow();
    }

    /** The live tables, for {@link AuditReplay.Live}. */
    static AuditReplay.Live live(AuditChain chain, UsageAggregates aggregates, String usageEventsTable) {
        return new AuditReplay.Live(chain, aggregates, usageEventsTable);
    }
}
