package io.dagy.saga.backend.aws;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.run.ErrorKinds;
import io.dagy.saga.backend.Dispatch;
import io.dagy.saga.secret.SecretResolver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.localstack.LocalStackContainer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.ExecutionStatus;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.Map;

import static io.dagy.saga.backend.aws.AwsTestKit.dispatch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The backends against LocalStack, an emulator that runs the services' behaviour rather than our stand-ins' reading of
 * their documentation. It needs a Docker engine: without one (as on the machines this project is built on) JUnit
 * reports it skipped, "Docker is not available". LocalStack's free edition has Step Functions and Lambda but not ECS,
 * so ECS is covered by the stand-in tests only.
 */
@Testcontainers(disabledWithoutDocker = true)
class AwsBackendsOnLocalStackTest {

    @Container
    static final LocalStackContainer LOCALSTACK = new LocalStackContainer("localstack/localstack:4.4")
            .withServices("stepfunctions", "lambda", "iam");

    static SfnClient sfn;
    static DynamoDbClient dynamoDb;
    static AwsDispatches dispatches;
    static AwsBackendClients clients;
    final AwsTestKit.RecordedReports reports = new AwsTestKit.RecordedReports();
    final JsonMapper json = JsonMapper.builder().build();

    @BeforeAll
    static void connect() {
        StaticCredentialsProvider credentials = StaticCredentialsProvider.create(
                AwsBasicCredentials.create(LOCALSTACK.getAccessKey(), LOCALSTACK.getSecretKey()));
        clients = new AwsBackendClients(LOCALSTACK.getEndpoint(), Region.of(LOCALSTACK.getRegion()), credentials);
        sfn = clients.stepFunctions();
        dynamoDb = AwsTestKit.dynamoDb();
        dispatches = new AwsDispatches(dynamoDb, AwsTestKit.table(dynamoDb));
    }

    @AfterAll
    static void close() {
        if (sfn != null) {
            sfn.close();
        }
    }

    private static String stateMachine(String name, String definition) {
        return sfn.createStateMachine(b -> b.name(name).roleArn("arn:aws:iam::000000000000:role/dagy-sfn")
                .definition(definition)).stateMachineArn();
    }

    @Test
    void anExecutionStartedTwiceUnderOneDispatchIdRunsOnceAndSucceeds() {
        String machine = stateMachine("pass", "{\"StartAt\":\"Done\",\"States\":{\"Done\":{\"Type\":\"Pass\",\"End\":true}}}");
        StepFunctionsBackend backend = new StepFunctionsBackend(clients.stepFunctions(), dispatches,
                SecretResolver.none(), reports, json);
        Dispatch dispatch = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", machine));

        backend.dispatch(dispatch);
        backend.dispatch(dispatch);

        assertThat(sfn.listExecutions(b -> b.stateMachineArn(machine)).executions()).hasSize(1);
        String arn = dispatches.find(AwsDispatches.executionName(dispatch.dispatchId())).orElseThrow().handle();
        await().atMost(Duration.ofSeconds(30)).until(() ->
                sfn.describeExecution(b -> b.executionArn(arn)).status() == ExecutionStatus.SUCCEEDED);
    }

    @Test
    void cancelAbortsARunningExecution() {
        String machine = stateMachine("wait", "{\"StartAt\":\"Wait\",\"States\":{\"Wait\":{\"Type\":\"Wait\","
                + "\"Seconds\":600,\"End\":true}}}");
        StepFunctionsBackend backend = new StepFunctionsBackend(clients.stepFunctions(), dispatches,
                SecretResolver.none(), reports, json);
        Dispatch dispatch = dispatch(BackendType.STEP_FUNCTIONS, Map.of("state_machine_arn", machine));
        backend.dispatch(dispatch);

        backend.cancel(dispatch.dispatchId());

        String arn = dispatches.find(AwsDispatches.executionName(dispatch.dispatchId())).orElseThrow().handle();
        await().atMost(Duration.ofSeconds(30)).until(() ->
                sfn.describeExecution(b -> b.executionArn(arn)).status() == ExecutionStatus.ABORTED);
    }

    @Test
    void aMissingFunctionIsMisconfigured() {
        LambdaBackend backend = new LambdaBackend(clients.lambda(), null, dispatches, SecretResolver.none(), reports,
                json);
        Dispatch dispatch = dispatch(BackendType.LAMBDA, Map.of("function", "no-such-function"));

        backend.dispatch(dispatch);

        assertThat(reports.reports).containsExactly("failed " + dispatch.dispatchId() + " "
                + ErrorKinds.BACKEND_MISCONFIGURED);
    }
}
