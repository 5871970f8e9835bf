package io.dagy.gateway.health;

import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Probes DynamoDB, S3 and SQS with the cheapest call that proves this node can use each: describing the events table,
 * heading the artifact bucket, reading the events queue's attributes. The three run in parallel, each bounded by a
 * timeout, so a dead dependency cannot hang the health endpoint.
 */
@Component
class DependencyProbes implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DependencyProbes.class);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
    private static final AwsRequestOverrideConfiguration TIMEOUT = AwsRequestOverrideConfiguration.builder()
            .apiCallTimeout(PROBE_TIMEOUT).apiCallAttemptTimeout(PROBE_TIMEOUT).build();

    private final DynamoDbClient dynamoDb;
    private final S3Client s3;
    private final SqsClient sqs;
    private final DagyResources resources;
    private final ExecutorService executor = Executors.newFixedThreadPool(3, runnable -> {
        Thread thread = new Thread(runnable, "health-probe");
        thread.setDaemon(true);
        return thread;
    });

    DependencyProbes(DynamoDbClient dynamoDb, S3Client s3, SqsClient sqs, DagyResources resources) {
        this.dynamoDb = dynamoDb;
        this.s3 = s3;
        this.sqs = sqs;
        this.resources = resources;
    }

    /** The health of {@code database}, {@code s3} and {@code sqs}, in that order. */
    Map<String, ComponentHealth> probeAll() {
        var database = probe("database", () -> dynamoDb.describeTable(b -> b
                .tableName(resources.table(DagyTable.EVENTS)).overrideConfiguration(TIMEOUT)));
        var bucket = probe("s3", () -> s3.headBucket(b -> b
                .bucket(resources.artifactBucket()).overrideConfiguration(TIMEOUT)));
        var queue = probe("sqs", () -> sqs.getQueueAttributes(b -> b.queueUrl(resources.eventsQueueUrl().toString())
                .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES).overrideConfiguration(TIMEOUT)));
        Map<String, ComponentHealth> result = new LinkedHashMap<>();
        result.put("database", database.join());
        result.put("s3", bucket.join());
        result.put("sqs", queue.join());
        return result;
    }

    private CompletableFuture<ComponentHealth> probe(String component, Runnable call) {
        return CompletableFuture.supplyAsync(() -> {
            long start = System.nanoTime();
            try {
                call.run();
                return new ComponentHealth(ComponentHealth.HEALTHY, millisSince(start), null);
            } catch (RuntimeException e) {
                log.warn("Health probe of {} failed: {}", component, e.toString());
                return new ComponentHealth(ComponentHealth.UNHEALTHY, millisSince(start), e.getClass().getSimpleName());
            }
        }, executor);
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
