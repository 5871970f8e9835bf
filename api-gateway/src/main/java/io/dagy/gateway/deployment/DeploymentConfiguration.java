package io.dagy.gateway.deployment;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.deployment.BackendPolicy;
import io.dagy.command.deployment.DeploymentIds;
import io.dagy.contracts.deployment.DeploymentEvents.DeploymentPublished;
import org.springframework.beans.factory.annotation.Value;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.springframework.beans.factory.ObjectProvider;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.projection.deployment.DeploymentViewProjection;
import io.dagy.query.deployment.DeploymentQueryHandler;
import io.dagy.tables.DagyTable;
import org.axonframework.serialization.Serializer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** The deployment projection and query handler on this node's tables. */
@Configuration(proxyBeanMethods = false)
class DeploymentConfiguration {

    /** {@code DAGY_LOCAL_BACKEND_ENABLED}: true by default in the local profile, false in the aws profile. */
    @Bean
    BackendPolicy backendPolicy(@Value("${dagy.local-backend-enabled:true}") boolean localBackendEnabled) {
        return BackendPolicy.of(localBackendEnabled);
    }

    @Bean
    DeploymentIds deploymentIds(ObjectProvider<EventStore> eventStore) {
        // a bare stream is a deployment's only if it starts with one: a run's id is a valid name too
        return new DeploymentIds(id -> {
            var stream = eventStore.getObject().readEvents(id, 0);
            return stream.hasNext() && stream.peek().getPayloadType() == DeploymentPublished.class;
        });
    }

    @Bean(DagyCommandTargetResolver.BEAN_NAME)
    DagyCommandTargetResolver dagyCommandTargetResolver(DeploymentIds deploymentIds) {
        return new DagyCommandTargetResolver(deploymentIds);
    }

    @Bean
    DeploymentViewProjection deploymentViewProjection(DynamoDbClient dynamoDb, DagyResources resources, Serializer serializer) {
        return new DeploymentViewProjection(dynamoDb, resources.table(DagyTable.DEPLOYMENTS), serializer);
    }

    @Bean
    DeploymentQueryHandler deploymentQueryHandler(DynamoDbClient dynamoDb, DagyResources resources, Serializer serializer) {
        return new DeploymentQueryHandler(dynamoDb, resources.table(DagyTable.DEPLOYMENTS), serializer);
    }
}
