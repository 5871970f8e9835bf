package io.dagy.gateway.run;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.Dispatch;
import io.dagy.saga.backend.LocalProcessBackend;
import io.dagy.tables.DagyTable;
import io.dagy.testendpoints.LocalTables;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The same dispatch handed to the local backend twice, on two nodes (as after a node died between the dispatch and
 * the saga's commit, and another node's saga dispatched again): the process runs once.
 */
class LocalDispatchOnceTest {

    /** The reports a backend sends, counted. */
    static final class CountingReports implements BackendReports {
        final AtomicInteger started = new AtomicInteger();
        final AtomicInteger succeeded = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();

        @Override
        public void started(String dispatchId) {
            started.incrementAndGet();
        }

        @Override
        public void heartbeat(String dispatchId) {
        }

        @Override
        public void succeeded(String dispatchId, Map<String, Object> output) {
            succeeded.incrementAndGet();
            finished.incrementAndGet();
        }

        @Override
        public void failed(String dispatchId, String errorKind, String message) {
            finished.incrementAndGet();
        }
    }

    @TempDir
    Path directory;

    @Test
    void aDispatchIdRunsOnceAcrossNodes() throws Exception {
        String table = LocalTables.create(DagyTable.TASK_RUNS);
        String bucket = "dispatch-once-" + UUID.randomUUID().toString().substring(0, 8);
        S3Client s3 = LocalAwsClients.s3(SharedLocalStack.get().s3Endpoint());
        s3.createBucket(b -> b.bucket(bucket));
        CountingReports reports = new CountingReports();
        Path ran = directory.resolve("ran");
        Dag.Task task = new Dag.Task("once", new Dag.Backend(BackendType.LOCAL,
                Map.of("command", List.of("sh", "-c", "echo ran >> " + ran))), List.of(), TriggerRule.ALL_SUCCESS,
                Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
        TaskRunId taskRun = TaskRunId.of(new RunId("r-" + UUID.randomUUID()), "once");
        Dispatch dispatch = new Dispatch(taskRun.dispatchId(1), OrgId.DEFAULT, taskRun, 1, task, Map.of());

        try (DynamoDbClient nodeA = LocalTables.dynamoDb(); DynamoDbClient nodeB = LocalTables.dynamoDb();
             LocalProcessBackend a = new LocalProcessBackend(reports, nodeA, table, s3, bucket, JsonMapper.builder().build());
             LocalProcessBackend b = new LocalProcessBackend(reports, nodeB, table, s3, bucket, JsonMapper.builder().build())) {
            a.dispatch(dispatch);
            b.dispatch(dispatch);
            a.dispatch(dispatch);

            await().atMost(Duration.ofSeconds(20)).until(() -> reports.succeeded.get() >= 1);
        }

        assertThat(Files.readAllLines(ran)).containsExactly("ran");
        assertThat(reports.succeeded).hasValue(1);
    }

    @Test
    void aCancelHandledOnAnotherNodeStopsTheProcessWhereItRuns() throws Exception {
        String table = LocalTables.create(DagyTable.TASK_RUNS);
        String bucket = "cancel-elsewhere-" + UUID.randomUUID().toString().substring(0, 8);
        S3Client s3 = LocalAwsClients.s3(SharedLocalStack.get().s3Endpoint());
        s3.createBucket(b -> b.bucket(bucket));
        CountingReports reports = new CountingReports();
        Path pid = directory.resolve("pid");
        Dag.Task task = new Dag.Task("long", new Dag.Backend(BackendType.LOCAL,
                Map.of("command", List.of("sh", "-c", "echo $$ > " + pid + "; exec sleep 60"))), List.of(),
                TriggerRule.ALL_SUCCESS, Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
        TaskRunId taskRun = TaskRunId.of(new RunId("r-" + UUID.randomUUID()), "long");
        Dispatch dispatch = new Dispatch(taskRun.dispatchId(1), OrgId.DEFAULT, taskRun, 1, task, Map.of());

        try (DynamoDbClient nodeA = LocalTables.dynamoDb(); DynamoDbClient nodeB = LocalTables.dynamoDb();
             LocalProcessBackend runsIt = new LocalProcessBackend(reports, nodeA, table, s3, bucket, JsonMapper.builder().build());
             LocalProcessBackend cancelsIt = new LocalProcessBackend(reports, nodeB, table, s3, bucket, JsonMapper.builder().build())) {
            runsIt.dispatch(dispatch);
            await().atMost(Duration.ofSeconds(20)).until(() -> reports.started.get() == 1 && Files.exists(pid)
                    && !Files.readString(pid).isBlank());
            long processId = Long.parseLong(Files.readString(pid).strip());
            assertThat(ProcessHandle.of(processId)).hasValueSatisfying(process -> assertThat(process.isAlive()).isTrue());

            cancelsIt.cancel(dispatch.dispatchId());

            await().atMost(Duration.ofSeconds(10))
                    .until(() -> ProcessHandle.of(processId).map(process -> !process.isAlive()).orElse(true));
        }
        assertThat(reports.finished).as("a cancelled attempt reports nothing; the saga that cancelled it decides").hasValue(0);
    }
}
