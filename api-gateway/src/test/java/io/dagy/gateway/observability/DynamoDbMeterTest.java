package io.dagy.gateway.observability;

import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The DynamoDB request meter counts per table and operation on DynamoDB Local, and counts a throttle when DynamoDB
 * answers with its throttling error: only AWS throttles, so that answer comes from a local stand-in that sends the
 * error DynamoDB documents ({@code ProvisionedThroughputExceededException}, HTTP 400).
 */
class DynamoDbMeterTest {

    @Test
    void requestsAreCountedByTableAndOperation() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DynamoDbClient dynamoDb = LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint(),
                new DynamoDbMeter(registry));

        assertThatThrownBy(() -> dynamoDb.getItem(b -> b.tableName("no-such-table")
                .key(Map.of("pk", AttributeValue.fromS("x"))))).isInstanceOf(ResourceNotFoundException.class);
        dynamoDb.listTables();

        assertThat(count(registry, DynamoDbMeter.REQUESTS, "no-such-table", "GetItem")).isEqualTo(1.0);
        assertThat(count(registry, DynamoDbMeter.REQUESTS, "none", "ListTables")).isEqualTo(1.0);
        assertThat(registry.find(DynamoDbMeter.THROTTLES).counters()).isEmpty(); // a missing table is no throttle
    }

    @Test
    void aThrottledCallCountsEverySentAttemptAndOneThrottle() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (StandIn dynamo = new StandIn(400, "application/x-amz-json-1.0",
                "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\","
                        + "\"message\":\"The level of configured provisioned throughput for the table was exceeded.\"}");
             DynamoDbClient dynamoDb = DynamoDbClient.builder().endpointOverride(dynamo.uri()).region(Region.US_EAST_1)
                     .credentialsProvider(AnonymousCredentialsProvider.create())
                     .overrideConfiguration(c -> c.retryStrategy(RetryMode.STANDARD)
                             .addExecutionInterceptor(new DynamoDbMeter(registry)))
                     .build()) {
            assertThatThrownBy(() -> dynamoDb.putItem(b -> b.tableName("dagy-runs-x")
                    .item(Map.of("pk", AttributeValue.fromS("x"))))).isInstanceOf(DynamoDbException.class);

            // the SDK's standard mode tries 3 times; each attempt is a request DynamoDB bills
            assertThat(dynamo.requests).hasSize(3);
            assertThat(count(registry, DynamoDbMeter.REQUESTS, "dagy-runs-x", "PutItem")).isEqualTo(3.0);
            assertThat(count(registry, DynamoDbMeter.THROTTLES, "dagy-runs-x", "PutItem")).isEqualTo(1.0);
        }
    }

    private static double count(SimpleMeterRegistry registry, String name, String table, String operation) {
        var counter = registry.find(name).tag("table", table).tag("operation", operation).counter();
        return counter == null ? 0 : counter.count();
    }
}
