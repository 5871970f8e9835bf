package io.dagy.gateway;

import io.dagy.gateway.accesslog.AccessLogRecords;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.testendpoints.TestEndpoints;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** The edge with no edge setting made (the same context as ProblemResponsesTest): nothing is trusted or allowed. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
@Import(TestEndpoints.class)
class EdgeDefaultsTest {

    @LocalServerPort
    int port;

    @Autowired
    DynamoDbClient dynamoDb;

    @Autowired
    DagyResources resources;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void noOriginIsAllowedByDefault() throws Exception {
        var request = send(HttpRequest.newBuilder(uri("/health")).header("Origin", "https://app.example.com"));
        var preflight = send(HttpRequest.newBuilder(uri("/health"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://app.example.com")
                .header("Access-Control-Request-Method", "GET"));

        assertThat(request.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods")).isEmpty();
    }

    @Test
    void anXForwardedForHeaderIsIgnoredUnlessItsSenderIsATrustedProxy() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/health")).header("X-Forwarded-For", "203.0.113.77"));

        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        var record = AccessLogRecords.awaitRecord(dynamoDb, resources, requestId);
        assertThat(record.get("client_ip").s()).isEqualTo("127.0.0.1");
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
