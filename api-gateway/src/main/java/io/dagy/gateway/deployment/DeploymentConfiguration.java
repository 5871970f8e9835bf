package io.dagy.gateway.deployment;

import io.dagy.command.common.DagyCommandTargetResolver;
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

    @Bean(DagyCommandTargetResolver.BEAN_NAME)
    DagyCommandTargetResolver dagyCommandTargetResolver() {
        return new DagyCommandTargetResolver();
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
