package io.dagy.gateway.backend;

import io.dagy.gateway.settings.DagyResources;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.aws.AwsBackendClients;
import io.dagy.saga.backend.aws.AwsDispatches;
import io.dagy.saga.backend.aws.AwsStateChanges;
import io.dagy.saga.backend.aws.EcsBackend;
import io.dagy.saga.backend.aws.LambdaBackend;
import io.dagy.saga.backend.aws.StepFunctionsBackend;
import io.dagy.saga.secret.SecretResolver;
import io.dagy.tables.DagyTable;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;

/**
 * The Lambda, Step Functions and ECS backends (docs/backends.md). Their dispatch records live in
 * {@code DAGY_TASK_RUNS}; their state changes arrive on the events queue. Off ({@code DAGY_AWS_BACKENDS_ENABLED}),
 * no client is made and their attempts fail with {@code backend_unavailable}; the state changes of dispatches made
 * before are still read.
 */
@Configuration(proxyBeanMethods = false)
class AwsBackendConfiguration {

    @Bean
    AwsDispatches awsDispatches(DynamoDbClient dynamoDb, DagyResources resources) {
        return new AwsDispatches(dynamoDb, resources.table(DagyTable.TASK_RUNS));
    }

    @Bean
    AwsBackends awsBackends(BackendProperties properties, AwsDispatches dispatches, SecretResolver secrets,
                            BackendReports reports, JsonMapper json, Environment environment) {
        AwsStateChanges stateChanges = new AwsStateChanges(dispatches, json);
        if (!properties.awsEnabled()) {
            return new AwsBackends(List.of(), stateChanges);
        }
        // the local profile's stand-ins take the local stack's credentials; on AWS the SDK's chains decide
        boolean local = !environment.acceptsProfiles(Profiles.of("aws"));
        AwsBackendClients clients = new AwsBackendClients(properties.awsEndpoint(),
                local ? Region.US_EAST_1 : null, local ? LocalAwsClients.credentials() : null);
        BackendProperties.Ecs ecs = properties.ecs();
        return new AwsBackends(List.of(
                new LambdaBackend(clients.lambda(), properties.flowExecutorFunction(), dispatches, secrets, reports, json),
                new StepFunctionsBackend(clients.stepFunctions(), dispatches, secrets, reports, json),
                new EcsBackend(clients.ecs(), new EcsBackend.Settings(ecs.cluster(), ecs.subnets(), ecs.securityGroups(),
                        ecs.assignPublicIp(), ecs.container()), dispatches, secrets, reports, json)),
                stateChanges);
    }
}
