package io.dagy.gateway.accesslog;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.support.TestOrganizations;
import java.util.UUID;

import io.dagy.gateway.settings.DagyResources;
import io.dagy.testendpoints.EdgeApplicationTest;
import io.dagy.testendpoints.EdgeTestEndpoints;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

/** Records of real requests in {@code DAGY_ACCESS_LOGS}, written in the background. */
@EdgeApplicationTest
class AccessLogTest {

    @LocalServerPort
    int port;

    @Autowired
    DynamoDbClient dynamoDb;

    @Autowired
    DagyResources resources;

    @Autowired
    org.springframework.context.ApplicationContext context;

    @Autowired
    io.dagy.gateway.security.LocalOwnerKey ownerKey;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void anAuthenticatedRequestIsRecordedWithItsCallerStatusAndLatencyButNoHeaderValueQueryOrToken() throws Exception {
        Instant before = Instant.now();
        String userAgent = "dagy-test/1.0 " + "x".repeat(400);
        OrgId acme = new OrgId("acme-" + UUID.randomUUID().toString().substring(0, 8));
        String key = new TestOrganizations(context).key(acme, Role.DEVELOPER);
        var response = send(HttpRequest.newBuilder(uri("/test/edge/ping?api_key=query-secret-1&page=2"))
                .header("Authorization", "Bearer " + key)
                .header("X-Forwarded-For", "203.0.113.50")
                .header("X-Custom", "header-secret-3")
                .header("User-Agent", userAgent));
        assertThat(response.statusCode()).isEqualTo(200);

        var record = AccessLogRecords.awaitRecord(dynamoDb, resources, requestId(response));

        assertThat(record.get("method").s()).isEqualTo("GET");
        assertThat(record.get("path").s()).isEqualTo("/test/edge/ping");
        assertThat(record.get("status").n()).isEqualTo("200");
        assertThat(Long.parseLong(record.get("latency_ms").n())).isNotNegative()
                .isLessThanOrEqualTo(Duration.between(before, Instant.now()).toMillis());
        assertThat(record.get("actor").s()).startsWith("api_key:key_");
        assertThat(record.get("org").s()).isEqualTo(acme.value());
        assertThat(record.get("client_ip").s()).isEqualTo("203.0.113.50");
        assertThat(record.get("user_agent").s()).hasSize(256).startsWith("dagy-test/1.0 xxx");
        Instant at = Instant.parse(record.get("timestamp").s());
        assertThat(at).isBetween(before.minusSeconds(1), Instant.now());
        assertThat(record.get("pk").s()).isEqualTo(acme.value() + "#" + at.atOffset(ZoneOffset.UTC).toLocalDate());
        assertThat(record.get("sk").s()).isEqualTo(record.get("timestamp").s() + "#" + requestId(response));
        assertThat(Long.parseLong(record.get("expires_at").n()))
                .isEqualTo(at.plus(Duration.ofDays(30)).getEpochSecond());
        assertThat(record.toString()).doesNotContain("query-secret-1", "page=2", key, "header-secret-3", "Bearer");
    }

    @Test
    void anAnonymousRequestAndItsErrorStatusAreRecordedWithoutOrganization() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/v1/no-such-route")));
        assertThat(response.statusCode()).isEqualTo(401);

        var record = AccessLogRecords.awaitRecord(dynamoDb, resources, requestId(response));

        assertThat(record.get("status").n()).isEqualTo("401");
        assertThat(record.get("actor").s()).isEqualTo("anonymous");
        assertThat(record).doesNotContainKey("org");
        assertThat(record.get("pk").s()).startsWith("anonymous#");
    }

    @Test
    void aRequestRefusedByAFilterIsRecordedWithTheStatusItGot() throws Exception {
        var cors = send(HttpRequest.newBuilder(uri("/test/edge/ping")).header("Origin", "https://evil.example"));
        var crash = send(HttpRequest.newBuilder(uri("/test/filter/crashes")).header("Authorization", "Bearer " + ownerKey.key()));
        var problem = send(HttpRequest.newBuilder(uri("/test/filter/rejects")).header("Authorization", "Bearer " + ownerKey.key()));

        assertThat(AccessLogRecords.awaitRecord(dynamoDb, resources, requestId(cors)).get("status").n()).isEqualTo("403");
        assertThat(AccessLogRecords.awaitRecord(dynamoDb, resources, requestId(crash)).get("status").n()).isEqualTo("500");
        assertThat(AccessLogRecords.awaitRecord(dynamoDb, resources, requestId(problem)).get("status").n())
                .isEqualTo(Integer.toString(problem.statusCode()));
    }

    private static String requestId(HttpResponse<String> response) {
        return response.headers().firstValue("X-Request-Id").orElseThrow();
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
