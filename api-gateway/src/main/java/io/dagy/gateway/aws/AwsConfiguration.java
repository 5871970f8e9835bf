package io.dagy.gateway.aws;

import io.dagy.gateway.settings.DagyProperties;
import io.dagy.gateway.settings.DagyResources;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.DependsOn;
import org.springframework.context.annotation.Profile;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The {@code aws} profile: real services through the SDK's default region and credential chains. Every table, the
 * bucket and the queue must be named by its {@code DAGY_*} variable; nothing is ever created.
 */
@Configuration(proxyBeanMethods = false)
@Profile("aws")
class AwsConfiguration {

    @Bean
    DagyResources dagyResources(DagyProperties properties) {
        return DagyResources.forAws(properties);
    }

    @Bean
    @DependsOn("dagyResources") // settings are checked before any client looks for a region
    DynamoDbClient dynamoDbClient(ExecutionInterceptor[] dynamoDbInterceptors) {
        return DynamoDbClient.builder()
                .overrideConfiguration(c -> c.executionInterceptors(java.util.List.of(dynamoDbInterceptors))).build();
    }

    @Bean
    @DependsOn("dagyResources") // settings are checked before any client looks for a region
    SqsClient sqsClient() {
        return SqsClient.create();
    }

    @Bean
    @DependsOn("dagyResources") // settings are checked before any client looks for a region
    S3Client s3Client() {
        return S3Client.create();
    }
}
