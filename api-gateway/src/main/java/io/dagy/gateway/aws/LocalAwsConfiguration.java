package io.dagy.gateway.aws;

import io.dagy.gateway.settings.DagyProperties;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.LocalStack;
import io.dagy.localstack.LocalStackOptions;
import io.dagy.localstack.SharedLocalStack;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The {@code local} profile: starts DynamoDB Local, ElasticMQ and S3Proxy in this JVM on 127.0.0.1, points the AWS
 * clients at them and creates the tables, queues and bucket that are missing.
 */
@Configuration(proxyBeanMethods = false)
@Profile("local")
class LocalAwsConfiguration {

    @Bean
    LocalStackLease localStack(DagyProperties properties) {
        DagyProperties.Local local = properties.local();
        if (local.sharedStack()) {
            return new LocalStackLease(SharedLocalStack.get(), false);
        }
        if (local.join()) {
            return new LocalStackLease(LocalStack.attach(local.dynamoDbPort(), local.sqsPort(), local.s3Port()), false);
        }
        LocalStackOptions options = new LocalStackOptions(local.dataDirectory(), local.inMemory(),
                local.dynamoDbPort(), local.sqsPort(), local.s3Port());
        return new LocalStackLease(LocalStack.start(options), true);
    }

    @Bean
    DynamoDbClient dynamoDbClient(LocalStackLease lease, ExecutionInterceptor[] dynamoDbInterceptors) {
        return LocalAwsClients.dynamoDb(lease.stack().dynamoDbEndpoint(), dynamoDbInterceptors);
    }

    @Bean
    SqsClient sqsClient(LocalStackLease lease) {
        return LocalAwsClients.sqs(lease.stack().sqsEndpoint());
    }

    @Bean
    S3Client s3Client(LocalStackLease lease) {
        return LocalAwsClients.s3(lease.stack().s3Endpoint());
    }

    @Bean
    DagyResources dagyResources(DagyProperties properties, DynamoDbClient dynamoDb, SqsClient sqs, S3Client s3) {
        return new LocalResources(dynamoDb, sqs, s3).createMissing(properties);
    }
}
