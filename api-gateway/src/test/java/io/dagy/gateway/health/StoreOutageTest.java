package io.dagy.gateway.health;

import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import io.dagy.localstack.LocalStack;
import io.dagy.localstack.SharedLocalStack;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.ActiveProfiles;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * DynamoDB goes away while the node runs (every call fails to connect, as when its server is gone): requests are
 * answered 503 with {@code Retry-After}, {@code /health} says unhealthy, and all is well again once it is back.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "dagy.store-probe-interval=200ms")
@ActiveProfiles({"local", "test"})
@org.springframework.context.annotation.Import(StoreOutageTest.SwitchableStore.class)
class StoreOutageTest {

    static final AtomicBoolean DOWN = new AtomicBoolean();

    /** The application's DynamoDB client, with a switch that makes every call fail as an unreachable server does. */
    @TestConfiguration
    static class SwitchableStore {
        @Bean
        @Primary
        DynamoDbClient switchableDynamoDb() {
            LocalStack stack = SharedLocalStack.get();
            return DynamoDbClient.builder().endpointOverride(stack.dynamoDbEndpoint())
                    .region(Region.of(LocalStack.REGION))
                    .credentialsProvider(StaticCredentialsProvider.create(
                            AwsBasicCredentials.create(LocalStack.ACCESS_KEY, LocalStack.SECRET_KEY)))
                    .overrideConfiguration(c -> c.addExecutionInterceptor(new ExecutionInterceptor() {
                        @Override
                        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                            if (DOWN.get()) {
                                throw SdkClientException.create("Unable to execute HTTP request: Connection refused");
                            }
                        }
                    }))
                    .build();
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    LocalOwnerKey ownerKey;

    @Autowired
    JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void storeBack() {
        DOWN.set(false);
    }

    @Test
    void whileTheStoreIsGoneRequestsAre503WithRetryAfterAndHealthSaysSo() throws Exception {
        assertThat(get("/v1/deployments").statusCode()).isEqualTo(200);

        DOWN.set(true);
        var first = get("/v1/deployments");
        var next = get("/v1/runs");
        var health = anonymous("/health");

        for (var response : java.util.List.of(first, next)) {
            assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
            assertThat(response.headers().firstValue("Retry-After")).isPresent();
            assertThat(json.readTree(response.body()).get("code").asString()).isEqualTo("service_unavailable");
        }
        assertThat(health.statusCode()).isEqualTo(503);
        assertThat(json.readTree(health.body()).get("status").asString()).isEqualTo("unhealthy");

        DOWN.set(false);
        await().atMost(Duration.ofSeconds(10)).until(() -> get("/v1/deployments").statusCode() == 200);
        assertThat(anonymous("/health").statusCode()).isEqualTo(200);
    }

    /** As a load balancer's health check: without credentials. */
    private HttpResponse<String> anonymous(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + ownerKey.key()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
