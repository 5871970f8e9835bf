package io.dagy.saga.report;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.CompleteTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.FailTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.StartTaskAttempt;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import io.dagy.localstack.standin.AwsStandIn;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.Dispatch;
import io.dagy.saga.backend.aws.AwsBackendClients;
import io.dagy.saga.backend.aws.AwsDispatches;
import io.dagy.saga.backend.aws.AwsStateChanges;
import io.dagy.saga.backend.aws.EcsBackend;
import io.dagy.saga.backend.aws.LambdaBackend;
import io.dagy.saga.backend.aws.StepFunctionsBackend;
import io.dagy.saga.secret.SecretResolver;
import org.axonframework.commandhandling.SimpleCommandBus;
import org.axonframework.commandhandling.gateway.DefaultCommandGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * AWS state changes as EventBridge (or a Lambda destination) puts them on the events queue, on ElasticMQ, become
 * commands on the task run of their dispatch; a state change of nothing Dagy dispatched goes to the dead-letter queue
 * with its reason. The dispatches are made against the AWS stand-ins, so their records are real.
 */
class AwsStateChangeReportsTest {

    static final String MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:etl";

    final JsonMapper json = JsonMapper.builder().build();
    final List<Object> commands = new CopyOnWriteArrayList<>();
    AwsStandIn aws;
    DynamoDbClient dynamoDb;
    SqsClient sqs;
    String queueUrl;
    String deadLetterUrl;
    AwsDispatches dispatches;
    ReportConsumer consumer;
    AwsBackendClients clients;
    final BackendReports ignored = new BackendReports() {
        @Override public void started(String dispatchId) { }
        @Override public void heartbeat(String dispatchId) { }
        @Override public void succeeded(String dispatchId, Map<String, Object> output) { }
        @Override public void failed(String dispatchId, String errorKind, String message) { }
    };

    @BeforeEach
    void start() {
        aws = AwsStandIn.start();
        clients = new AwsBackendClients(aws.endpoint(), Region.US_EAST_1, LocalAwsClients.credentials());
        dynamoDb = LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint());
        String table = "state-changes-" + UUID.randomUUID().toString().substring(0, 8);
        dynamoDb.createTable(b -> b.tableName(table).billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(a -> a.attributeName("pk").attributeType(ScalarAttributeType.S),
                        a -> a.attributeName("sk").attributeType(ScalarAttributeType.S))
                .keySchema(k -> k.attributeName("pk").keyType(KeyType.HASH),
                        k -> k.attributeName("sk").keyType(KeyType.RANGE)));
        dispatches = new AwsDispatches(dynamoDb, table);
        sqs = LocalAwsClients.sqs(SharedLocalStack.get().sqsEndpoint());
        String name = "events-" + UUID.randomUUID().toString().substring(0, 8);
        deadLetterUrl = sqs.createQueue(b -> b.queueName(name + "-dlq")).queueUrl();
        String deadLetterArn = sqs.getQueueAttributes(b -> b.queueUrl(deadLetterUrl)
                .attributeNames(QueueAttributeName.QUEUE_ARN)).attributes().get(QueueAttributeName.QUEUE_ARN);
        queueUrl = sqs.createQueue(b -> b.queueName(name)).queueUrl();
        sqs.setQueueAttributes(b -> b.queueUrl(queueUrl).attributes(Map.of(QueueAttributeName.REDRIVE_POLICY,
                "{\"deadLetterTargetArn\":\"" + deadLetterArn + "\",\"maxReceiveCount\":\"5\"}")));
        SimpleCommandBus bus = SimpleCommandBus.builder().build();
        for (Class<?> type : List.of(StartTaskAttempt.class, CompleteTaskAttempt.class, FailTaskAttempt.class)) {
            bus.subscribe(type.getName(), message -> {
                commands.add(message.getPayload());
                return null;
            });
        }
        consumer = new ReportConsumer(sqs, URI.create(queueUrl), DefaultCommandGateway.builder().commandBus(bus).build(),
                json, 1, new AwsStateChanges(dispatches, json));
        consumer.start(1);
    }

    @AfterEach
    void stop() {
        consumer.close();
        aws.close();
    }

    static Dispatch dispatch(BackendType type, Map<String, Object> config) {
        Dag.Task task = new Dag.Task("load", new Dag.Backend(type, config), List.of(), TriggerRule.ALL_SUCCESS,
                Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
        TaskRunId taskRun = TaskRunId.of(new RunId("r-" + UUID.randomUUID()), "load");
        return new Dispatch(taskRun.dispatchId(2), new OrgId("acme"), taskRun, 2, task, Map.of());
    }

    private void put(String body) {
        sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody(body));
    }

    private static String eventBridge(String source, String detailType, String detail) {
        return """
                {"version":"0","id":"%s","detail-type":"%s","source":"%s","account":"123456789012",
                 "time":"2026-11-30T05:00:00Z","region":"us-east-1","resources":[],"detail":%s}"""
                .formatted(UUID.randomUUID(), detailType, source, detail);
    }

    @Test
    void stepFunctionsStatusChangesBecomeAStartAndASuccessWithTheOutput() {
        Dispatch dispatch = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE));
        new StepFunctionsBackend(clients.stepFunctions(), dispatches, SecretResolver.none(), ignored, json).dispatch(dispatch);
        String name = AwsDispatches.executionName(dispatch.dispatchId());

        put(eventBridge("aws.states", "Step Functions Execution Status Change",
                "{\"executionArn\":\"arn:x\",\"name\":\"" + name + "\",\"status\":\"RUNNING\",\"output\":null}"));
        put(eventBridge("aws.states", "Step Functions Execution Status Change",
                "{\"executionArn\":\"arn:x\",\"name\":\"" + name + "\",\"status\":\"SUCCEEDED\","
                        + "\"output\":\"{\\\"rows\\\":42}\"}"));

        await().atMost(Duration.ofSeconds(20)).until(() -> commands.size() == 2);
        assertThat(commands).containsExactlyInAnyOrder(new StartTaskAttempt(dispatch.taskRunId(), 2),
                new CompleteTaskAttempt(dispatch.taskRunId(), 2, Map.of("rows", 42)));
    }

    @Test
    void aFailedExecutionFailsTheAttemptWithItsError() {
        Dispatch dispatch = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE));
        new StepFunctionsBackend(clients.stepFunctions(), dispatches, SecretResolver.none(), ignored, json).dispatch(dispatch);

        put(eventBridge("aws.states", "Step Functions Execution Status Change", "{\"name\":\""
                + AwsDispatches.executionName(dispatch.dispatchId())
                + "\",\"status\":\"FAILED\",\"error\":\"States.TaskFailed\",\"cause\":\"boom\"}"));

        await().atMost(Duration.ofSeconds(20)).until(() -> commands.size() == 1);
        assertThat(commands).containsExactly(new FailTaskAttempt(dispatch.taskRunId(), 2, "States.TaskFailed", "boom"));
    }

    @Test
    void ecsTaskStateChangesBecomeAStartAndAnExitCodeFailure() {
        Dispatch dispatch = dispatch(BackendType.ECS, Map.of("task_definition", "worker:1"));
        new EcsBackend(clients.ecs(), new EcsBackend.Settings("dagy-tasks", List.of("subnet-1"), List.of("sg-1"), false,
                "task-worker"), dispatches, SecretResolver.none(), ignored, json).dispatch(dispatch);
        String name = AwsDispatches.executionName(dispatch.dispatchId());

        put(eventBridge("aws.ecs", "ECS Task State Change", "{\"startedBy\":\"" + name
                + "\",\"lastStatus\":\"PROVISIONING\",\"containers\":[]}"));
        put(eventBridge("aws.ecs", "ECS Task State Change", "{\"startedBy\":\"" + name
                + "\",\"lastStatus\":\"RUNNING\",\"containers\":[{\"name\":\"task-worker\"}]}"));
        put(eventBridge("aws.ecs", "ECS Task State Change", "{\"startedBy\":\"" + name
                + "\",\"lastStatus\":\"STOPPED\",\"stopCode\":\"EssentialContainerExited\",\"stoppedReason\":"
                + "\"Essential container in task exited\",\"containers\":[{\"name\":\"task-worker\",\"exitCode\":3}]}"));

        await().atMost(Duration.ofSeconds(20)).until(() -> commands.size() == 2);
        assertThat(commands).containsExactlyInAnyOrder(new StartTaskAttempt(dispatch.taskRunId(), 2),
                new FailTaskAttempt(dispatch.taskRunId(), 2, "exit_3",
                        "task-worker exited with code 3: Essential container in task exited"));
        await().atMost(Duration.ofSeconds(20)).until(() -> sqs.getQueueAttributes(b -> b.queueUrl(queueUrl)
                        .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes().values()
                .stream().allMatch("0"::equals)); // the provisioning change too was consumed
    }

    @Test
    void lambdaDestinationRecordsBecomeSuccessAndFailure() {
        LambdaBackend lambda = new LambdaBackend(clients.lambda(), null, dispatches, SecretResolver.none(), ignored, json);
        Dispatch ok = dispatch(BackendType.LAMBDA, Map.of("function", "etl"));
        Dispatch bad = dispatch(BackendType.LAMBDA, Map.of("function", "etl"));
        lambda.dispatch(ok);
        lambda.dispatch(bad);

        put(eventBridge("lambda", "Lambda Function Invocation Result - Success", "{\"version\":\"1.0\","
                + "\"requestContext\":{\"requestId\":\"q1\",\"condition\":\"Success\",\"approximateInvokeCount\":1},"
                + "\"requestPayload\":{\"dispatch_id\":\"" + ok.dispatchId() + "\",\"execution_name\":\""
                + AwsDispatches.executionName(ok.dispatchId()) + "\"},\"responseContext\":{\"statusCode\":200},"
                + "\"responsePayload\":{\"rows\":7}}"));
        // a destination straight to SQS delivers the record without the EventBridge envelope
        put("{\"version\":\"1.0\",\"requestContext\":{\"requestId\":\"q2\",\"condition\":\"RetriesExhausted\"},"
                + "\"requestPayload\":{\"dispatch_id\":\"" + bad.dispatchId() + "\",\"execution_name\":\""
                + AwsDispatches.executionName(bad.dispatchId()) + "\"},\"responseContext\":{\"statusCode\":200,"
                + "\"functionError\":\"Unhandled\"},\"responsePayload\":{\"errorType\":\"ValueError\","
                + "\"errorMessage\":\"bad row\"}}");

        await().atMost(Duration.ofSeconds(20)).until(() -> commands.size() == 2);
        assertThat(commands).containsExactlyInAnyOrder(new CompleteTaskAttempt(ok.taskRunId(), 2, Map.of("rows", 7)),
                new FailTaskAttempt(bad.taskRunId(), 2, "ValueError", "bad row"));
    }

    @Test
    void aStateChangeOfNothingDagyDispatchedGoesToTheDeadLetterQueueWithItsReason() {
        String body = eventBridge("aws.states", "Step Functions Execution Status Change",
                "{\"name\":\"dagy-00000000000000000000000000000000\",\"status\":\"SUCCEEDED\"}");
        put(body);

        List<Message> dead = new CopyOnWriteArrayList<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            dead.addAll(sqs.receiveMessage(b -> b.queueUrl(deadLetterUrl).messageAttributeNames("All")
                    .waitTimeSeconds(1)).messages());
            return !dead.isEmpty();
        });
        assertThat(dead).singleElement().satisfies(message -> {
            assertThat(message.body()).isEqualTo(body);
            assertThat(message.messageAttributes().get("dagy_reason").stringValue())
                    .contains("no dispatch of Dagy").contains("dagy-00000000000000000000000000000000");
        });
        assertThat(commands).isEmpty();
    }

    @Test
    void aStateChangeOfAnExecutionNameDispatchedToAnotherBackendIsUnknown() {
        Dispatch dispatch = dispatch(BackendType.ECS, Map.of("task_definition", "worker:1"));
        new EcsBackend(clients.ecs(), new EcsBackend.Settings("dagy-tasks", List.of(), List.of(), false, "w"),
                dispatches, SecretResolver.none(), ignored, json).dispatch(dispatch);

        put(eventBridge("aws.states", "Step Functions Execution Status Change", "{\"name\":\""
                + AwsDispatches.executionName(dispatch.dispatchId()) + "\",\"status\":\"SUCCEEDED\"}"));

        await().atMost(Duration.ofSeconds(20)).until(() -> !sqs.receiveMessage(b -> b.queueUrl(deadLetterUrl)
                .waitTimeSeconds(1)).messages().isEmpty());
        assertThat(commands).isEmpty();
    }
}
