package io.dagy.saga.backend.aws;

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
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/** What the AWS backend tests share: a dispatch-record table on DynamoDB Local, dispatches, recorded reports. */
final class AwsTestKit {

    private AwsTestKit() {
    }

    static DynamoDbClient dynamoDb() {
        return LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint());
    }

    /** A fresh table of {@code DAGY_TASK_RUNS}' design, made as the application makes it. */
    static String table(DynamoDbClient dynamoDb) {
        String name = "aws-backends-" + UUID.randomUUID().toString().substring(0, 8);
        new TableBootstrap(dynamoDb).createMissing(Map.of(DagyTable.TASK_RUNS, name));
        return name;
    }

    static AwsBackendClients clients(URI standIn) {
        return new AwsBackendClients(standIn, Region.US_EAST_1, LocalAwsClients.credentials());
    }

    static Dispatch dispatch(BackendType type, Map<String, Object> config) {
        Dag.Task task = new Dag.Task("extract", new Dag.Backend(type, config), List.of(), TriggerRule.ALL_SUCCESS,
                Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
        TaskRunId taskRun = TaskRunId.of(new RunId("r-" + UUID.randomUUID()), "extract");
        return new Dispatch(taskRun.dispatchId(1), new OrgId("acme"), taskRun, 1, task, Map.of("day", "2026-11-30"));
    }

    /** Reports as the backends send them, in order. */
    static final class RecordedReports implements BackendReports {
        final List<String> reports = new CopyOnWriteArrayList<>();

        @Override
        public void started(String dispatchId) {
            reports.add("started " + dispatchId);
        }

        @Override
        public void heartbeat(String dispatchId) {
            reports.add("heartbeat " + dispatchId);
        }

        @Override
        public void succeeded(String dispatchId, Map<String, Object> output) {
            reports.add("succeeded " + dispatchId);
        }

        @Override
        public void failed(String dispatchId, String errorKind, String message) {
            reports.add("failed " + dispatchId + " " + errorKind);
        }
    }
}
