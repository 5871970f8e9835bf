package io.dagy.localstack;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.net.URI;
import java.util.List;

/** AWS SDK clients aimed at the servers of a {@link LocalStack}. */
public final class LocalAwsClients {

    private static final StaticCredentialsProvider CREDENTIALS =
            StaticCredentialsProvider.create(AwsBasicCredentials.create(LocalStack.ACCESS_KEY, LocalStack.SECRET_KEY));
    private static final Region REGION = Region.of(LocalStack.REGION);

    private LocalAwsClients() {
    }

    /** The static credentials the local servers (and the AWS stand-ins) accept. */
    public static StaticCredentialsProvider credentials() {
        return CREDENTIALS;
    }

    public static DynamoDbClient dynamoDb(URI endpoint) {
        return DynamoDbClient.builder().endpointOverride(endpoint).region(REGION).credentialsProvider(CREDENTIALS).build();
    }

    /** A DynamoDB client whose requests pass these interceptors (the application's request meter). */
    public static DynamoDbClient dynamoDb(URI endpoint, ExecutionInterceptor... interceptors) {
        return DynamoDbClient.builder().endpointOverride(endpoint).region(REGION).credentialsProvider(CREDENTIALS)
                .overrideConfiguration(c -> c.executionInterceptors(List.of(interceptors))).build();
    }

    public static SqsClient sqs(URI endpoint) {
        return SqsClient.builder().endpointOverride(endpoint).region(REGION).credentialsProvider(CREDENTIALS).build();
    }

    public static S3Client s3(URI endpoint) {
        return S3Client.builder().endpointOverride(endpoint).region(REGION).credentialsProvider(CREDENTIALS)
                .forcePathStyle(true).build();
    }
}
