package io.dagy.gateway.backend;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
import io.dagy.localstack.standin.AwsStandIn;
import io.dagy.saga.backend.aws.AwsDispatches;
import io.dagy.tables.DagyTable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runs end to end on the local stack with the AWS backends aimed at the local stand-ins of Lambda, Step Functions and
 * ECS ({@link AwsStandIn}: not AWS). The stand-in plays each service's state changes by putting EventBridge-shaped
 * messages on the installation's events queue (ElasticMQ), as EventBridge rules do on AWS; tasks whose id starts with
 * {@code hang} get none, so they run until a timeout or a cancel stops them.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class AwsBackendsRunTest {

    static final AwsStandIn AWS = AwsStandIn.start();
    static final AtomicBoolean PLAYING = new AtomicBoolean();
    static final String MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:transform";

    @DynamicPropertySource
    static void awsBackends(DynamicPropertyRegistry registry) {
        registry.add("dagy.backends.aws-enabled", () -> "true");
        registry.add("dagy.backends.aws-endpoint", () -> AWS.endpoint().toString());
        registry.add("dagy.backends.flow-executor-function", () -> "dagy-flow-executor");
        registry.add("dagy.backends.ecs.cluster", () -> "dagy-tasks");
        registry.add("dagy.backends.ecs.subnets", () -> "subnet-a,subnet-b");
        registry.add("dagy.backends.ecs.security-groups", () -> "sg-a");
        // a Fernet key made for this test only
        registry.add("dagy.secrets.key", () -> "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=");
    }

    @Autowired
    LocalOwnerKey ownerKey;

    @Autowired
    ApplicationContext context;

    @Autowired
    SqsClient sqs;

    @Autowired
    DynamoDbClient dynamoDb;

    @Autowired
    DagyResources resources;

    @Autowired
    AwsDispatches dispatches;

    @LocalServerPort
    int port;

    final JsonMapper json = JsonMapper.builder().build();

    @BeforeEach
    void playTheServicesStateChanges() {
        if (!PLAYING.compareAndSet(false, true)) {
            return;
        }
        String queue = resources.eventsQueueUrl().toString();
        AWS.onRequest(request -> {
            switch (request.action()) {
                case "StartExecution" -> {
                    JsonNode input = json.readTree(request.body().path("input").asString());
                    if (input.path("task_id").asString().startsWith("hang")) {
                        return;
                    }
                    String name = request.body().path("name").asString();
                    put(queue, eventBridge("aws.states", "Step Functions Execution Status Change",
                            "{\"name\":\"" + name + "\",\"status\":\"RUNNING\"}"));
                    put(queue, eventBridge("aws.states", "Step Functions Execution Status Change",
                            "{\"name\":\"" + name + "\",\"status\":\"SUCCEEDED\",\"output\":\"{\\\"rows\\\":3}\"}"));
                }
                case "RunTask" -> {
                    String taskId = "";
                    for (JsonNode pair : request.body().path("overrides").path("containerOverrides").get(0)
                            .path("environment")) {
                        if (pair.path("name").asString().equals("DAGY_TASK_ID")) {
                            taskId = pair.path("value").asString();
                        }
                    }
                    if (taskId.startsWith("hang")) {
                        return;
                    }
                    String startedBy = request.body().path("startedBy").asString();
                    put(queue, eventBridge("aws.ecs", "ECS Task State Change", "{\"startedBy\":\"" + startedBy
                            + "\",\"lastStatus\":\"RUNNING\",\"containers\":[{\"name\":\"task-worker\"}]}"));
                    put(queue, eventBridge("aws.ecs", "ECS Task State Change", "{\"startedBy\":\"" + startedBy
                            + "\",\"lastStatus\":\"STOPPED\",\"containers\":[{\"name\":\"task-worker\",\"exitCode\":0}]}"));
                }
                case "Invoke" -> {
                    if (request.body().path("task_id").asString().startsWith("hang")) {
                        return;
                    }
                    put(queue, eventBridge("lambda", "Lambda Function Invocation Result - Success",
                            "{\"requestContext\":{\"condition\":\"Success\"},\"requestPayload\":" + request.body()
                                    + ",\"responseContext\":{\"statusCode\":200},\"responsePayload\":{\"files\":2}}"));
                }
                default -> {
                    // stops and lists change no state the tests play
                }
            }
        });
    }

    private void put(String queue, String body) {
        sqs.sendMessage(b -> b.queueUrl(queue).messageBody(body));
    }

    private static String eventBridge(String source, String detailType, String detail) {
        return "{\"version\":\"0\",\"id\":\"" + UUID.randomUUID() + "\",\"detail-type\":\"" + detailType
                + "\",\"source\":\"" + source + "\",\"account\":\"123456789012\",\"region\":\"us-east-1\","
                + "\"resources\":[],\"detail\":" + detail + "}";
    }

    @Test
    void aDeploymentWithALambdaAStepFunctionsAndAnEcsTaskRunsToSucceeded() throws Exception {
        String deployment = deploy("""
                {"tasks": [
                  {"id": "extract", "backend": {"type": "lambda"}},
                  {"id": "transform", "backend": {"type": "step_functions", "state_machine_arn": "%s"},
                   "depends_on": ["extract"]},
                  {"id": "load", "backend": {"type": "ecs", "task_definition": "dagy-task-worker:1",
                   "command": ["python", "load.py"]}, "depends_on": ["transform"]}
                ]}""".formatted(MACHINE));

        String runId = startRun(deployment);
        awaitFinished(runId, "SUCCEEDED");

        assertThat(requestsOf(runId, "Invoke")).singleElement().satisfies(invoke -> {
            assertThat(invoke.path()).isEqualTo("/2015-03-31/functions/dagy-flow-executor/invocations");
            assertThat(invoke.headers()).containsEntry("x-amz-invocation-type", "Event");
        });
        assertThat(requestsOf(runId, "StartExecution")).singleElement().satisfies(start -> {
            assertThat(start.body().path("stateMachineArn").asString()).isEqualTo(MACHINE);
            assertThat(start.body().path("name").asString())
                    .isEqualTo(AwsDispatches.executionName(runId + "/transform/1"));
        });
        assertThat(requestsOf(runId, "RunTask")).singleElement().satisfies(runTask -> {
            assertThat(runTask.body().path("cluster").asString()).isEqualTo("dagy-tasks");
            assertThat(runTask.body().path("startedBy").asString())
                    .isEqualTo(AwsDispatches.executionName(runId + "/load/1"));
            assertThat(runTask.body().path("networkConfiguration").path("awsvpcConfiguration").path("subnets")
                    .toString()).isEqualTo("[\"subnet-a\",\"subnet-b\"]");
        });
    }

    @Test
    void aTimedOutStepFunctionsExecutionIsStopped() throws Exception {
        String deployment = deploy("""
                {"tasks": [{"id": "hang-transform", "backend": {"type": "step_functions", "state_machine_arn": "%s"},
                            "timeouts": {"start_to_close": "PT2S"}}]}""".formatted(MACHINE));

        String runId = startRun(deployment);
        JsonNode run = awaitFinished(runId, "FAILED");

        String executionArn = MACHINE.replace(":stateMachine:", ":execution:") + ":"
                + AwsDispatches.executionName(runId + "/hang-transform/1");
        await().atMost(Duration.ofSeconds(30)).until(() -> AWS.requests("StopExecution").stream()
                .anyMatch(stop -> stop.body().path("executionArn").asString().equals(executionArn)));
        assertThat(run.toString()).contains("TIMED_OUT");
    }

    @Test
    void cancellingARunStopsItsEcsTask() throws Exception {
        String deployment = deploy("""
                {"tasks": [{"id": "hang-load", "backend": {"type": "ecs", "task_definition": "dagy-task-worker:1"}}]}""");
        String runId = startRun(deployment);
        String name = AwsDispatches.executionName(runId + "/hang-load/1");
        await().atMost(Duration.ofSeconds(30)).until(() -> dispatches.find(name)
                .map(record -> record.handle() != null).orElse(false));
        String taskArn = dispatches.find(name).orElseThrow().handle();

        HttpResponse<String> cancel = ApiCalls.send(port, ownerKey.key(), "POST", "/v1/runs/" + runId + "/cancel", "{}");
        assertThat(cancel.statusCode()).as(cancel.body()).isLessThan(300);

        awaitFinished(runId, "CANCELLED");
        await().atMost(Duration.ofSeconds(30)).until(() -> AWS.requests("StopTask").stream()
                .anyMatch(stop -> stop.body().path("task").asString().equals(taskArn)
                        && stop.body().path("cluster").asString().equals("dagy-tasks")));
    }

    @Test
    void aSecretReachesTheContainerAtDispatchAndNeitherTheRunViewNorAnyEvent() throws Exception {
        String value = "s3cr3t-" + UUID.randomUUID();
        HttpResponse<String> put = ApiCalls.send(port, ownerKey.key(), "PUT", "/v1/secrets/db-password",
                "{\"value\": \"" + value + "\"}");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(put.body()).doesNotContain(value).contains("\"name\":\"db-password\"");
        String deployment = deploy("""
                {"tasks": [{"id": "load", "backend": {"type": "ecs", "task_definition": "dagy-task-worker:1",
                            "secrets": ["db-password"]}}]}""");

        String runId = startRun(deployment);
        awaitFinished(runId, "SUCCEEDED");

        assertThat(requestsOf(runId, "RunTask").get(0).body().toString())
                .contains("{\"name\":\"DAGY_SECRET_DB_PASSWORD\",\"value\":\"" + value + "\"}");
        assertThat(ApiCalls.send(port, ownerKey.key(), "GET", "/v1/runs/" + runId, null).body()).doesNotContain(value);
        assertThat(dynamoDb.scanPaginator(b -> b.tableName(resources.table(DagyTable.EVENTS))).items().stream()
                .map(Object::toString)).noneMatch(item -> item.contains(value));
        assertThat(ApiCalls.send(port, ownerKey.key(), "GET", "/v1/secrets", null).body())
                .contains("db-password").doesNotContain(value);
    }

    @Test
    void secretsAreForAdminsAndTheirValuesAreNeverReturned() throws Exception {
        TestOrganizations organizations = new TestOrganizations(context);
        OrgId org = new OrgId("secrets-" + UUID.randomUUID().toString().substring(0, 8));
        organizations.create(org);
        String admin = organizations.key(org, Role.ADMIN);
        String developer = organizations.key(org, Role.DEVELOPER);

        HttpResponse<String> put = ApiCalls.send(port, admin, "PUT", "/v1/secrets/github-token", "{\"value\": \"ghp_x1\"}");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        JsonNode listed = json.readTree(ApiCalls.send(port, admin, "GET", "/v1/secrets", null).body());
        assertThat(listed.path("items")).singleElement().satisfies(item -> {
            assertThat(item.path("name").asString()).isEqualTo("github-token");
            assertThat(item.toString()).doesNotContain("ghp_x1").doesNotContain("value");
        });
        ApiCalls.assertProblem(ApiCalls.send(port, developer, "GET", "/v1/secrets", null), 403, "forbidden");
        ApiCalls.assertProblem(ApiCalls.send(port, admin, "PUT", "/v1/secrets/bad%20name", "{\"value\": \"x\"}"), 400,
                "validation_failed");
        ApiCalls.assertProblem(ApiCalls.send(port, admin, "PUT", "/v1/secrets/empty", "{}"), 400, "validation_failed");
        // another organization's secret does not exist for this one
        ApiCalls.assertProblem(ApiCalls.send(port, ownerKey.key(), "GET", "/v1/secrets/github-token", null), 404,
                "secret_not_found");

        assertThat(ApiCalls.send(port, admin, "DELETE", "/v1/secrets/github-token", null).statusCode()).isEqualTo(204);
        ApiCalls.assertProblem(ApiCalls.send(port, admin, "DELETE", "/v1/secrets/github-token", null), 404,
                "secret_not_found");
    }

    private List<AwsStandIn.Request> requestsOf(String runId, String action) {
        return AWS.requests(action).stream().filter(request -> request.body().toString().contains(runId)).toList();
    }

    private String deploy(String dag) throws Exception {
        String name = "aws-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> response = ApiCalls.send(port, ownerKey.key(), "PUT", "/v1/deployments/" + name, dag);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return name;
    }

    private String startRun(String deployment) throws Exception {
        HttpResponse<String> response = ApiCalls.send(port, ownerKey.key(), "POST",
                "/v1/deployments/" + deployment + "/runs", "{\"params\": {\"day\": \"2026-11-30\"}}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return json.readTree(response.body()).get("run_id").asString();
    }

    /** Waits until the run is final, then checks it ended as expected. */
    private JsonNode awaitFinished(String runId, String expected) {
        JsonNode run = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            HttpResponse<String> response = ApiCalls.send(port, ownerKey.key(), "GET", "/v1/runs/" + runId, null);
            return response.statusCode() == 200 ? json.readTree(response.body()) : null;
        }, view -> view != null && List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(view.path("status").asString()));
        assertThat(run.path("status").asString()).as(run.toString()).isEqualTo(expected);
        return run;
    }
}
