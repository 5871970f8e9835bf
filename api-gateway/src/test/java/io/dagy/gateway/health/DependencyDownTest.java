package io.dagy.gateway.health;

import io.dagy.gateway.settings.DagyResources;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.LocalStack;
import io.dagy.localstack.SharedLocalStack;
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.http.HttpStatus;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A dependency that does not answer makes the detailed health 503, with that component marked. */
class DependencyDownTest {

    @Test
    void anUnreachableS3MakesDetailedHealthUnavailableAndMarksS3() throws IOException {
        LocalStack stack = SharedLocalStack.get();
        DynamoDbClient dynamoDb = LocalAwsClients.dynamoDb(stack.dynamoDbEndpoint());
        SqsClient sqs = LocalAwsClients.sqs(stack.sqsEndpoint());
        S3Client deadS3 = LocalAwsClients.s3(URI.create("http://127.0.0.1:" + closedPort()));

        Map<DagyTable, String> tables = new EnumMap<>(DagyTable.class);
        for (DagyTable table : DagyTable.values()) {
            tables.put(table, table.defaultName("health-down"));
        }
        new TableBootstrap(dynamoDb).createMissing(Map.of(DagyTable.EVENTS, tables.get(DagyTable.EVENTS)));
        URI queue = URI.create(sqs.createQueue(b -> b.queueName("health-down")).queueUrl());
        var resources = new DagyResources(tables, "health-down", queue);

        try (var probes = new DependencyProbes(dynamoDb, deadS3, sqs, resources)) {
            var controller = new HealthController(probes,
                    new StoreOutage(dynamoDb, tables.get(DagyTable.EVENTS), java.time.Duration.ofSeconds(5), Clock.systemUTC()),
                    new StaticListableBeanFactory().getBeanProvider(
                    org.springframework.boot.info.BuildProperties.class),
                    new StaticListableBeanFactory(Map.of("clock", Clock.systemUTC())).getBeanProvider(Clock.class));

            var response = controller.detailed();

            assertThat(response.getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
            assertThat(response.getBody().status()).isEqualTo("unhealthy");
            assertThat(response.getBody().components().get("s3").status()).isEqualTo("unhealthy");
            assertThat(response.getBody().components().get("database").status()).isEqualTo("healthy");
            assertThat(response.getBody().components().get("sqs").status()).isEqualTo("healthy");
        }
    }

    /** A loopback port nothing listens on. */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
