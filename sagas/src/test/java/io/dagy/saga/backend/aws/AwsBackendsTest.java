package io.dagy.saga.backend.aws;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.run.ErrorKinds;
import io.dagy.localstack.standin.AwsStandIn;
import io.dagy.saga.backend.Dispatch;
import io.dagy.saga.secret.SecretResolver;
import io.dagy.saga.secret.SecretStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.ecs.EcsClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;
import java.util.Map;

import static io.dagy.saga.backend.aws.AwsTestKit.dispatch;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exact requests the AWS backends send, against local stand-ins of Lambda, Step Functions and ECS (not AWS: see
 * docs/backends.md), with their dispatch records on DynamoDB Local.
 */
class AwsBackendsTest {

    static final String MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:etl";
    static final String KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="; // a Fernet key made for this test only

    final JsonMapper json = JsonMapper.builder().build();
    final AwsTestKit.RecordedReports reports = new AwsTestKit.RecordedReports();
    AwsStandIn aws;
    DynamoDbClient dynamoDb;
    AwsDispatches dispatches;
    String dispatchTable;
    SecretStore secrets;
    AwsBackendClients clients;

    @BeforeEach
    void start() {
        aws = AwsStandIn.start();
        dynamoDb = AwsTestKit.dynamoDb();
        dispatchTable = AwsTestKit.table(dynamoDb);
        dispatches = new AwsDispatches(dynamoDb, dispatchTable);
        secrets = new SecretStore(dynamoDb, AwsTestKit.table(dynamoDb), KEY);
        clients = AwsTestKit.clients(aws.endpoint());
    }

    @AfterEach
    void stop() {
        aws.close();
        dynamoDb.close();
    }

    StepFunctionsBackend stepFunctions() {
        return new StepFunctionsBackend(clients.stepFunctions(), dispatches, secrets, reports, json);
    }

    EcsBackend ecs() {
        return new EcsBackend(clients.ecs(), new EcsBackend.Settings("dagy-tasks", List.of("subnet-1", "subnet-2"),
                List.of("sg-1"), false, "task-worker"), dispatches, secrets, reports, json);
    }

    LambdaBackend lambda() {
        return new LambdaBackend(clients.lambda(), "dagy-flow-executor", dispatches, secrets, reports, json);
    }

    @Test
    void stepFunctionsStartsOneExecutionNamedByTheDispatch() {
        Dispatch dispatch = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE,
                "input", Map.of("table", "orders")));

        stepFunctions().dispatch(dispatch);

        List<AwsStandIn.Request> starts = aws.requests("StartExecution");
        assertThat(starts).hasSize(1);
        JsonNode request = starts.get(0).body();
        assertThat(request.path("stateMachineArn").asString()).isEqualTo(MACHINE);
        assertThat(request.path("name").asString()).isEqualTo(AwsDispatches.executionName(dispatch.dispatchId()))
                .matches("dagy-[0-9a-f]{32}");
        JsonNode input = json.readTree(request.path("input").asString());
        assertThat(input.path("dispatch_id").asString()).isEqualTo(dispatch.dispatchId());
        assertThat(input.path("input").path("table").asString()).isEqualTo("orders");
        assertThat(input.path("params").path("day").asString()).isEqualTo("2026-11-30");
        assertThat(reports.reports).isEmpty(); // the start is reported by the execution's RUNNING state change
    }

    @Test
    void aRepeatedDispatchStartsNoSecondExecutionOnAnyBackend() {
        Dispatch sfn = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE));
        Dispatch task = dispatch(BackendType.ECS, Map.of("task_definition", "dagy-task-worker:1"));
        Dispatch function = dispatch(BackendType.LAMBDA, Map.of("function", "etl"));

        for (int i = 0; i < 2; i++) {
            stepFunctions().dispatch(sfn);
            ecs().dispatch(task);
            lambda().dispatch(function);
        }

        assertThat(aws.requests("StartExecution")).hasSize(1);
        assertThat(aws.requests("RunTask")).hasSize(1);
        assertThat(aws.requests("Invoke")).hasSize(1);
    }

    @Test
    void aDispatchWhoseNodeDiedBeforeRecordingItsTaskFindsTheTaskByStartedBy() {
        Dispatch dispatch = dispatch(BackendType.ECS, Map.of("task_definition", "dagy-task-worker:1"));
        String name = AwsDispatches.executionName(dispatch.dispatchId());
        dispatches.claim(dispatch.dispatchId(), BackendType.ECS); // a node recorded it, started the task, and died
        try (EcsClient ecs = clients.ecs()) {
            ecs.runTask(b -> b.cluster("dagy-tasks").taskDefinition("dagy-task-worker:1").startedBy(name)
                    .clientToken(name));
        }

        ecs().dispatch(dispatch);

        List<AwsStandIn.Request> lists = aws.requests("ListTasks");
        assertThat(lists).isNotEmpty();
        assertThat(lists.get(0).body().path("startedBy").asString()).isEqualTo(name);
        assertThat(lists.get(0).body().path("cluster").asString()).isEqualTo("dagy-tasks");
        assertThat(aws.requests("RunTask")).hasSize(1); // only the dead node's
        assertThat(dispatches.find(name).orElseThrow().handle()).startsWith("arn:aws:ecs:");
    }

    @Test
    void aStepFunctionsDispatchWhoseNodeDiedMidStartIsStartedAgainAndStepFunctionsReturnsTheSameExecution() {
        Dispatch dispatch = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE));
        stepFunctions().dispatch(dispatch);
        // the node died after StartExecution, before recording it: forget the handle
        dynamoDb.updateItem(b -> b.tableName(dispatchTable).key(Map.of(
                        "pk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("aws-dispatch#"
                                + AwsDispatches.executionName(dispatch.dispatchId())),
                        "sk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("dispatch")))
                .updateExpression("REMOVE handle"));

        stepFunctions().dispatch(dispatch);

        assertThat(aws.requests("StartExecution")).hasSize(2);
        assertThat(aws.requests("StartExecution").get(1).body().path("input").asString())
                .isEqualTo(aws.requests("StartExecution").get(0).body().path("input").asString());
        assertThat(aws.startedExecutions()).isEqualTo(1);
        assertThat(reports.reports).isEmpty();
        assertThat(dispatches.find(AwsDispatches.executionName(dispatch.dispatchId())).orElseThrow().handle())
                .endsWith(":execution:etl:" + AwsDispatches.executionName(dispatch.dispatchId()));
    }

    @Test
    void ecsRunsOneFargateTaskWithTheInstallationsNetworkAndTheTasksOverrides() {
        Dispatch dispatch = dispatch(BackendType.ECS, Map.of("task_definition", "dagy-task-worker:3",
                "command", List.of("python", "etl.py"), "env", Map.of("MODE", "full")));

        ecs().dispatch(dispatch);

        List<AwsStandIn.Request> runs = aws.requests("RunTask");
        assertThat(runs).hasSize(1);
        JsonNode request = runs.get(0).body();
        String name = AwsDispatches.executionName(dispatch.dispatchId());
        assertThat(request.path("cluster").asString()).isEqualTo("dagy-tasks");
        assertThat(request.path("taskDefinition").asString()).isEqualTo("dagy-task-worker:3");
        assertThat(request.path("launchType").asString()).isEqualTo("FARGATE");
        assertThat(request.path("count").asInt()).isEqualTo(1);
        assertThat(request.path("startedBy").asString()).isEqualTo(name);
        assertThat(request.path("clientToken").asString()).isEqualTo(name);
        JsonNode network = request.path("networkConfiguration").path("awsvpcConfiguration");
        assertThat(network.path("subnets").toString()).isEqualTo("[\"subnet-1\",\"subnet-2\"]");
        assertThat(network.path("securityGroups").toString()).isEqualTo("[\"sg-1\"]");
        assertThat(network.path("assignPublicIp").asString()).isEqualTo("DISABLED");
        JsonNode override = request.path("overrides").path("containerOverrides").get(0);
        assertThat(override.path("name").asString()).isEqualTo("task-worker");
        assertThat(override.path("command").toString()).isEqualTo("[\"python\",\"etl.py\"]");
        Map<String, String> environment = new java.util.HashMap<>();
        override.path("environment").forEach(pair -> environment.put(pair.path("name").asString(),
                pair.path("value").asString()));
        assertThat(environment).containsEntry("MODE", "full").containsEntry("DAGY_DISPATCH_ID", dispatch.dispatchId())
                .containsEntry("DAGY_EXECUTION_NAME", name).containsEntry("DAGY_ATTEMPT", "1")
                .containsEntry("DAGY_PARAMS", "{\"day\":\"2026-11-30\"}");
        Map<String, String> tags = new java.util.HashMap<>();
        request.path("tags").forEach(tag -> tags.put(tag.path("key").asString(), tag.path("value").asString()));
        assertThat(tags).containsEntry("dagy:dispatch-id", dispatch.dispatchId()).containsEntry("dagy:org", "acme");
    }

    @Test
    void lambdaInvokesAsynchronouslyWithTheDispatchInThePayload() {
        Dispatch dispatch = dispatch(BackendType.LAMBDA, Map.of("function", "etl-function"));

        lambda().dispatch(dispatch);

        List<AwsStandIn.Request> invokes = aws.requests("Invoke");
        assertThat(invokes).hasSize(1);
        assertThat(invokes.get(0).path()).isEqualTo("/2015-03-31/functions/etl-function/invocations");
        assertThat(invokes.get(0).headers()).containsEntry("x-amz-invocation-type", "Event");
        JsonNode payload = invokes.get(0).body();
        assertThat(payload.path("dispatch_id").asString()).isEqualTo(dispatch.dispatchId());
        assertThat(payload.path("execution_name").asString()).isEqualTo(AwsDispatches.executionName(dispatch.dispatchId()));
        assertThat(payload.path("org_id").asString()).isEqualTo("acme");
        assertThat(reports.reports).containsExactly("started " + dispatch.dispatchId());
    }

    @Test
    void aLambdaTaskWithoutAFunctionInvokesTheFlowExecutor() {
        lambda().dispatch(dispatch(BackendType.LAMBDA, Map.of()));

        assertThat(aws.requests("Invoke").get(0).path()).isEqualTo("/2015-03-31/functions/dagy-flow-executor/invocations");
    }

    @Test
    void aLambdaTaskWithoutAFunctionOnAnInstallationWithoutAFlowExecutorIsMisconfigured() {
        LambdaBackend withoutExecutor = new LambdaBackend(clients.lambda(), null, dispatches, secrets, reports, json);
        Dispatch dispatch = dispatch(BackendType.LAMBDA, Map.of());

        withoutExecutor.dispatch(dispatch);

        assertThat(aws.requests()).isEmpty();
        assertThat(reports.reports).containsExactly("failed " + dispatch.dispatchId() + " "
                + ErrorKinds.BACKEND_MISCONFIGURED);
    }

    @Test
    void anEcsTaskWithoutAClusterIsMisconfigured() {
        EcsBackend withoutCluster = new EcsBackend(clients.ecs(), new EcsBackend.Settings(null, List.of(), List.of(),
                false, "task-worker"), dispatches, secrets, reports, json);
        Dispatch dispatch = dispatch(BackendType.ECS, Map.of("task_definition", "t:1"));

        withoutCluster.dispatch(dispatch);

        assertThat(aws.requests()).isEmpty();
        assertThat(reports.reports).containsExactly("failed " + dispatch.dispatchId() + " "
                + ErrorKinds.BACKEND_MISCONFIGURED);
    }

    @Test
    void aStoreOutageFailsTheDispatchSoTheSagaHandlesItAgainRatherThanFailingTheAttempt() {
        AwsDispatches unreachable = new AwsDispatches(dynamoDb, "no-such-table-" + java.util.UUID.randomUUID());
        Dispatch dispatch = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new StepFunctionsBackend(clients.stepFunctions(),
                        unreachable, secrets, reports, json).dispatch(dispatch))
                .isInstanceOf(software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException.class);
        assertThat(aws.requests()).isEmpty();
        assertThat(reports.reports).isEmpty();
    }

    @Test
    void throttlingIsRetriedByTheSdkAndTheExecutionStarts() {
        aws.failNext("StartExecution", 2, 400, "ThrottlingException");

        stepFunctions().dispatch(dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE)));

        assertThat(aws.requests("StartExecution")).hasSize(3);
        assertThat(aws.startedExecutions()).isEqualTo(1);
        assertThat(reports.reports).isEmpty();
    }

    @Test
    void throttlingOfLambdaIsRetriedByTheSdk() {
        aws.failNext("Invoke", 1, 429, "TooManyRequestsException");
        Dispatch dispatch = dispatch(BackendType.LAMBDA, Map.of("function", "etl"));

        lambda().dispatch(dispatch);

        assertThat(aws.requests("Invoke")).hasSize(2);
        assertThat(reports.reports).containsExactly("started " + dispatch.dispatchId());
    }

    @Test
    void throttlingBeyondTheSdksRetriesFailsTheAttemptAsThrottled() {
        aws.failNext("RunTask", 3, 400, "ThrottlingException");
        Dispatch dispatch = dispatch(BackendType.ECS, Map.of("task_definition", "dagy-task-worker:1"));

        ecs().dispatch(dispatch);

        assertThat(aws.requests("RunTask")).hasSize(3);
        assertThat(reports.reports).containsExactly("failed " + dispatch.dispatchId() + " " + ErrorKinds.BACKEND_THROTTLED);
    }

    @Test
    void accessDeniedFailsTheAttemptAsMisconfiguredWithoutRetrying() {
        aws.failNext("StartExecution", 1, 400, "AccessDeniedException");
        Dispatch dispatch = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE));

        stepFunctions().dispatch(dispatch);

        assertThat(aws.requests("StartExecution")).hasSize(1);
        assertThat(reports.reports).containsExactly("failed " + dispatch.dispatchId() + " "
                + ErrorKinds.BACKEND_MISCONFIGURED);
    }

    @Test
    void aMissingFunctionFailsTheAttemptAsMisconfigured() {
        aws.failNext("Invoke", 1, 404, "ResourceNotFoundException");
        Dispatch dispatch = dispatch(BackendType.LAMBDA, Map.of("function", "no-such-function"));

        lambda().dispatch(dispatch);

        assertThat(aws.requests("Invoke")).hasSize(1);
        assertThat(reports.reports).containsExactly("failed " + dispatch.dispatchId() + " "
                + ErrorKinds.BACKEND_MISCONFIGURED);
    }

    @Test
    void ecsAccessDeniedFailsTheAttemptAsMisconfigured() {
        aws.failNext("RunTask", 1, 400, "AccessDeniedException");
        Dispatch dispatch = dispatch(BackendType.ECS, Map.of("task_definition", "dagy-task-worker:1"));

        ecs().dispatch(dispatch);

        assertThat(reports.reports).containsExactly("failed " + dispatch.dispatchId() + " "
                + ErrorKinds.BACKEND_MISCONFIGURED);
    }

    @Test
    void cancelStopsTheExecutionAndTheTaskThatWereStarted() {
        Dispatch sfn = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE));
        Dispatch task = dispatch(BackendType.ECS, Map.of("task_definition", "dagy-task-worker:1"));
        stepFunctions().dispatch(sfn);
        ecs().dispatch(task);

        stepFunctions().cancel(sfn.dispatchId());
        ecs().cancel(task.dispatchId());

        String executionArn = MACHINE.replace(":stateMachine:", ":execution:") + ":"
                + AwsDispatches.executionName(sfn.dispatchId());
        assertThat(aws.requests("StopExecution")).singleElement().satisfies(stop -> {
            assertThat(stop.body().path("executionArn").asString()).isEqualTo(executionArn);
            assertThat(stop.body().path("error").asString()).isEqualTo("dagy.cancelled");
        });
        String taskArn = aws.requests("RunTask").isEmpty() ? null
                : dispatches.find(AwsDispatches.executionName(task.dispatchId())).orElseThrow().handle();
        assertThat(aws.requests("StopTask")).singleElement().satisfies(stop -> {
            assertThat(stop.body().path("cluster").asString()).isEqualTo("dagy-tasks");
            assertThat(stop.body().path("task").asString()).isEqualTo(taskArn);
        });
    }

    @Test
    void cancellingADispatchThatNeverStartedAsksAwsNothing() {
        stepFunctions().cancel(dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE)).dispatchId());
        ecs().cancel(dispatch(BackendType.ECS, Map.of("task_definition", "x")).dispatchId());

        assertThat(aws.requests()).isEmpty();
    }

    @Test
    void aCancelThatCameWhileTheStartWasUnderWayStopsWhatTheStartStarted() {
        Dispatch dispatch = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", MACHINE));
        aws.onRequest(request -> {
            if (request.action().equals("StartExecution")) {
                stepFunctions().cancel(dispatch.dispatchId()); // another node's cancel, between start and record
            }
        });

        stepFunctions().dispatch(dispatch);

        assertThat(aws.requests("StopExecution")).hasSize(1);
    }

    @Test
    void secretsAreDecryptedIntoThePayloadAtDispatch() {
        secrets.put(new io.dagy.contracts.identity.OrgId("acme"), "github-token", "ghp_s3cr3t", "user-1");
        Dispatch dispatch = dispatch(BackendType.ECS, Map.of("task_definition", "t:1",
                "secrets", List.of("github-token")));

        ecs().dispatch(dispatch);

        JsonNode environment = aws.requests("RunTask").get(0).body().path("overrides").path("containerOverrides").get(0)
                .path("environment");
        assertThat(environment.toString()).contains("{\"name\":\"DAGY_SECRET_GITHUB_TOKEN\",\"value\":\"ghp_s3cr3t\"}");
    }

    @Test
    void aTaskNamingASecretItsOrganizationLacksFailsWithoutCallingAws() {
        Dispatch dispatch = dispatch(BackendType.LAMBDA, Map.of("function", "etl", "secrets", List.of("missing")));

        lambda().dispatch(dispatch);

        assertThat(aws.requests()).isEmpty();
        assertThat(reports.reports).containsExactly("failed " + dispatch.dispatchId() + " "
                + ErrorKinds.SECRET_UNAVAILABLE);
    }

    @Test
    void anInstallationWithoutASecretsKeyFailsTasksThatNameSecrets() {
        LambdaBackend withoutSecrets = new LambdaBackend(clients.lambda(), null, dispatches, SecretResolver.none(),
                reports, json);
        Dispatch dispatch = dispatch(BackendType.LAMBDA, Map.of("function", "etl", "secrets", List.of("any")));

        withoutSecrets.dispatch(dispatch);

        assertThat(reports.reports).containsExactly("failed " + dispatch.dispatchId() + " "
                + ErrorKinds.SECRET_UNAVAILABLE);
    }
}
