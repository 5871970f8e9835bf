package io.dagy.gateway;

import io.dagy.gateway.security.LocalOwnerKey;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.LocalStack;
import io.dagy.localstack.SharedLocalStack;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** A node that joins another node's local stack works on it, and leaves it running when it stops. */
class LocalJoinTest {

    @Test
    void aJoiningNodeUsesTheRunningStackAndDoesNotStopIt() throws Exception {
        LocalStack stack = SharedLocalStack.get();
        String environment = "join-" + UUID.randomUUID().toString().substring(0, 8);
        try (ConfigurableApplicationContext node = new SpringApplicationBuilder(DagyApplication.class)
                .profiles("local", "test").run("--dagy.environment=" + environment,
                        "--dagy.local.shared-stack=false", "--dagy.local.join=true",
                        "--dagy.local.dynamo-db-port=" + stack.dynamoDbEndpoint().getPort(),
                        "--dagy.local.sqs-port=" + stack.sqsEndpoint().getPort(),
                        "--dagy.local.s3-port=" + stack.s3Endpoint().getPort())) {
            String port = node.getBean(Environment.class).getProperty("local.server.port");
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/v1/deployments"))
                    .header("Authorization", "Bearer " + node.getBean(LocalOwnerKey.class).key()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
        }

        assertThat(LocalAwsClients.dynamoDb(stack.dynamoDbEndpoint())
                .describeTable(b -> b.tableName(io.dagy.tables.DagyTable.EVENTS.defaultName(environment)))
                .table().tableStatusAsString()).as("the joined stack still runs").isEqualTo("ACTIVE");
    }
}
