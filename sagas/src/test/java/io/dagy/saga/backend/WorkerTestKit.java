package io.dagy.saga.backend;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunId;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import tools.jackson.databind.json.JsonMapper;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** What the worker backend's tests share: a fresh task-runs table on DynamoDB Local, dispatches to queue {@code q}. */
final class WorkerTestKit {

    private WorkerTestKit() {
    }

    /** A fresh table with {@code DAGY_TASK_RUNS}' key design (pk, sk). */
    static String table(DynamoDbClient dynamoDb) {
        String name = "worker-" + UUID.randomUUID().toString().substring(0, 8);
        dynamoDb.createTable(b -> b.tableName(name).billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(a -> a.attributeName("pk").attributeType(ScalarAttributeType.S),
                        a -> a.attributeName("sk").attributeType(ScalarAttributeType.S))
                .keySchema(k -> k.attributeName("pk").keyType(KeyType.HASH),
                        k -> k.attributeName("sk").keyType(KeyType.RANGE)));
        return name;
    }

    static WorkerBackend backend(DynamoDbClient dynamoDb, String table) {
        return new WorkerBackend(dynamoDb, table, JsonMapper.builder().build(), new NoReports(), Clock.systemUTC());
    }

    /** The first attempt of a new task run on the worker queue {@code q} of organization {@code acme}. */
    static Dispatch dispatch() {
        Dag.Task task = new Dag.Task("t", new Dag.Backend(BackendType.WORKER, Map.of("queue", "q")), List.of(),
                TriggerRule.ALL_SUCCESS, Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
        TaskRunId taskRun = TaskRunId.of(new RunId("r-" + UUID.randomUUID()), "t");
        return new Dispatch(taskRun.dispatchId(1), new OrgId("acme"), taskRun, 1, task, Map.of());
    }

    /** Reports nobody listens to: these tests look at the queue and the guards. */
    private static final class NoReports implements BackendReports {
        @Override
        public void started(String dispatchId) {
        }

        @Override
        public void heartbeat(String dispatchId) {
        }

        @Override
        public void succeeded(String dispatchId, Map<String, Object> output) {
        }

        @Override
        public void failed(String dispatchId, String errorKind, String message) {
        }
    }
}
