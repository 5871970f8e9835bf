package io.dagy.gateway.accesslog;

import io.dagy.localstack.LocalStack;
import io.dagy.localstack.SharedLocalStack;
import io.dagy.tables.DagyTable;
import io.dagy.testendpoints.LocalTables;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** The writer alone, on DynamoDB Local: batching, dropping when full, and flushing on stop. */
class AccessLogWriterTest {

    private final String table = LocalTables.create(DagyTable.ACCESS_LOGS);
    /** The size of every BatchWriteItem the writer sent, seen on the way out (DynamoDB Local still does the work). */
    private final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    private final DynamoDbClient dynamoDb = DynamoDbClient.builder()
            .endpointOverride(SharedLocalStack.get().dynamoDbEndpoint())
            .region(Region.of(LocalStack.REGION))
            .credentialsProvider(StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(LocalStack.ACCESS_KEY, LocalStack.SECRET_KEY)))
            .overrideConfiguration(o -> o.addExecutionInterceptor(new ExecutionInterceptor() {
                @Override
                public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                    if (context.request() instanceof BatchWriteItemRequest batch) {
                        batchSizes.add(batch.requestItems().values().stream().mapToInt(List::size).sum());
                    }
                }
            }))
            .build();

    @AfterEach
    void close() {
        dynamoDb.close();
    }

    @Test
    void stoppingWritesEverythingStillQueuedInBatchesOfAtMost25() {
        // a linger longer than the test: stopping must not wait for it
        AccessLogWriter writer = new AccessLogWriter(dynamoDb, table, 100, Duration.ofDays(30), Duration.ofSeconds(10));
        for (int i = 0; i < 60; i++) {
            writer.offer(entry());
        }

        writer.start();
        writer.stop();   // returns only once the queue is written

        assertThat(count()).isEqualTo(60);
        assertThat(batchSizes).allSatisfy(size -> assertThat(size).isBetween(1, 25));
        assertThat(batchSizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(60);
        assertThat(batchSizes).hasSizeGreaterThanOrEqualTo(3);
        assertThat(writer.failed()).isZero();
    }

    @Test
    void aFullQueueDropsNewRecordsAndCountsThem() {
        AccessLogWriter writer = new AccessLogWriter(dynamoDb, table, 3, Duration.ofDays(30), Duration.ZERO);

        for (int i = 0; i < 5; i++) {
            writer.offer(entry());
        }

        assertThat(writer.dropped()).isEqualTo(2);
        assertThat(writer.queued()).isEqualTo(3);
        writer.start();
        writer.stop();
        assertThat(count()).isEqualTo(3);
    }

    /** Requests that arrive one by one within the linger share one write, not one write each. */
    @Test
    void recordsArrivingWithinTheLingerAreWrittenTogether() throws InterruptedException {
        AccessLogWriter writer = new AccessLogWriter(dynamoDb, table, 100, Duration.ofDays(30), Duration.ofSeconds(3));
        writer.start();
        try {
            for (int i = 0; i < 10; i++) {
                writer.offer(entry());
                Thread.sleep(20);
            }
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> count() == 10);
        } finally {
            writer.stop();
        }
        assertThat(batchSizes).containsExactly(10);
    }

    private int count() {
        try (DynamoDbClient reader = LocalTables.dynamoDb()) {
            return reader.scan(b -> b.tableName(table).consistentRead(true)).count();
        }
    }

    private static AccessLogEntry entry() {
        return new AccessLogEntry(Instant.now(), UUID.randomUUID().toString(), "GET", "/v1/runs", 200, 3,
                "anonymous", null, "192.0.2.1", "curl/8");
    }
}
