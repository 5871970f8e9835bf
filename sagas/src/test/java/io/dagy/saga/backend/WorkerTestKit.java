package io.dagy.saga.backend;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import tools.jackson.databind.json.JsonMapper;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/** What the worker backend's tests share: a fresh task-runs table on DynamoDB Local, dispatches to queue {@code q}. */
final class WorkerTestKit {

    private WorkerTestKit() {
    }

    /** A fresh table of {@code DAGY_TASK_RUNS}' design, made as the application makes it. */
    static String table(DynamoDbClient dynamoDb) {
        String name = "worker-" + UUID.randomUUID().toString().substring(0, 8);
        new TableBootstrap(dynamoDb).createMissing(Map.of(DagyTable.TASK_RUNS, name));
        return name;
    }

    /** A client of the shared DynamoDB Local that shows {@code seeing} each request as it is about to be sent. */
    static DynamoDbClient dynamoDbSeeing(Consumer<SdkRequest> seeing) {
        return LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint(), new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                seeing.accept(context.request());
            }
        });
    }

    /**
     * A client of the shared DynamoDB Local whose answers' status codes {@code answering} may change after DynamoDB
     * applied the request: a 500 is an answer lost after the write landed, which the SDK sends again.
     */
    static DynamoDbClient dynamoDbAnswering(java.util.function.BiFunction<SdkRequest, Integer, Integer> answering) {
        return LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint(), new ExecutionInterceptor() {
            @Override
            public software.amazon.awssdk.http.SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context,
                                                                                 ExecutionAttributes attributes) {
                int status = answering.apply(context.request(), context.httpResponse().statusCode());
                return context.httpResponse().toBuilder().statusCode(status).build();
            }
        });
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
