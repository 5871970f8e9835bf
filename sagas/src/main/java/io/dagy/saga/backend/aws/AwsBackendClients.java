package io.dagy.saga.backend.aws;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.sfn.SfnClient;

import java.net.URI;

/**
 * The SDK clients of the AWS backends. They use the SDK's <em>standard</em> retry mode (3 attempts, exponential
 * back-off with jitter, throttling and 5xx and connection errors retried, a client-side retry quota), so a burst of
 * throttling is absorbed before an attempt fails. An endpoint override points a client elsewhere (the tests' local
 * stand-ins, or a VPC endpoint); region and credentials come from the SDK's default chains unless given.
 */
public final class AwsBackendClients {

    private final URI endpoint;
    private final Region region;
    private final AwsCredentialsProvider credentials;

    /** Every argument may be null: the SDK's defaults. */
    public AwsBackendClients(URI endpoint, Region region, AwsCredentialsProvider credentials) {
        this.endpoint = endpoint;
        this.region = region;
        this.credentials = credentials;
    }

    public LambdaClient lambda() {
        return configure(LambdaClient.builder()).build();
    }

    public SfnClient stepFunctions() {
        return configure(SfnClient.builder()).build();
    }

    public EcsClient ecs() {
        return configure(EcsClient.builder()).build();
    }

    private <B extends AwsClientBuilder<B, ?>> B configure(B builder) {
        builder.overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD));
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        if (region != null) {
            builder.region(region);
        }
        if (credentials != null) {
            builder.credentialsProvider(credentials);
        }
        return builder;
    }
}
