package io.dagy.gateway.ratelimit;

import io.dagy.testendpoints.EdgeApplicationTest;
import io.dagy.testendpoints.EdgeTestEndpoints.PingController;
import io.dagy.testendpoints.TestClock;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The rate limit through HTTP at its default settings: 120 a minute, burst 200, buckets in DynamoDB Local. */
@EdgeApplicationTest
class RateLimitApiTest {

    @LocalServerPort
    int port;

    @Autowired
    JsonMapper json;

    @Autowired
    TestClock clock;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theRequestAfterABurstOf200IsRefusedWithRetryAfterAndNeverReachesTheApplication() throws Exception {
        String token = newKey();
        int callsBefore = PingController.CALLS.get();

        for (int i = 1; i <= 200; i++) {
            var response = ping(token);
            assertThat(response.statusCode()).as("request %d", i).isEqualTo(200);
            assertThat(response.headers().firstValue("X-RateLimit-Limit")).hasValue("120");
            assertThat(response.headers().firstValue("X-RateLimit-Remaining")).hasValue(Integer.toString(200 - i));
        }
        var refused = ping(token);

        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");   // one token per 500 ms, rounded up
        assertThat(refused.headers().firstValue("X-RateLimit-Limit")).hasValue("120");
        assertThat(refused.headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
        JsonNode problem = json.readTree(refused.body());
        assertThat(problem.get("status").asInt()).isEqualTo(429);
        assertThat(problem.get("code").asString()).isEqualTo("rate_limited");
        assertThat(problem.get("type").asString()).isEqualTo("urn:dagy:problem:rate_limited");
        assertThat(problem.get("instance").asString()).isEqualTo("/test/edge/ping");
        assertThat(PingController.CALLS.get() - callsBefore).isEqualTo(200);
    }

    @Test
    void anEmptiedBucketRefillsAtThePerMinuteRate() throws Exception {
        String client = uniqueAddress();
        String token = newKey();
        for (int i = 0; i < 200; i++) {
            assertThat(ping(token).statusCode()).isEqualTo(200);
        }
        assertThat(ping(token).statusCode()).isEqualTo(429);

        clock.advance(Duration.ofSeconds(30));   // 60 tokens at 120 a minute

        for (int i = 0; i < 60; i++) {
            assertThat(ping(token).statusCode()).as("request %d after the refill", i + 1).isEqualTo(200);
        }
        assertThat(ping(token).statusCode()).isEqualTo(429);
        assertThat(send(HttpRequest.newBuilder(uri("/test/edge/ping")).header("X-Forwarded-For", client))
                .headers().firstValue("X-RateLimit-Remaining")).as("another client").hasValue("199");
    }

    @Test
    void clientsWithoutAnApiKeyAreLimitedByTheirAddress() throws Exception {
        String client = uniqueAddress();
        var first = send(HttpRequest.newBuilder(uri("/test/edge/ping")).header("X-Forwarded-For", client));
        var second = send(HttpRequest.newBuilder(uri("/test/edge/ping")).header("X-Forwarded-For", client));
        var otherClient = send(HttpRequest.newBuilder(uri("/test/edge/ping"))
                .header("X-Forwarded-For", uniqueAddress()));

        assertThat(first.headers().firstValue("X-RateLimit-Remaining")).hasValue("199");
        assertThat(second.headers().firstValue("X-RateLimit-Remaining")).hasValue("198");
        assertThat(otherClient.headers().firstValue("X-RateLimit-Remaining")).hasValue("199");
    }

    @Test
    void healthAndWebhooksAreNotLimited() throws Exception {
        var health = send(HttpRequest.newBuilder(uri("/health")));
        var detailed = send(HttpRequest.newBuilder(uri("/health/detailed")));
        var webhook = send(HttpRequest.newBuilder(uri("/webhooks/github")).POST(HttpRequest.BodyPublishers.noBody()));
        var limited = send(HttpRequest.newBuilder(uri("/v1/no-such-thing")));

        assertThat(health.statusCode()).isEqualTo(200);
        for (var response : List.of(health, detailed, webhook)) {
            assertThat(response.headers().firstValue("X-RateLimit-Limit")).isEmpty();
        }
        assertThat(limited.statusCode()).as("refused by authentication, and still counted").isEqualTo(401);
        assertThat(limited.headers().firstValue("X-RateLimit-Limit")).as("unknown routes count too").hasValue("120");
    }

    @Test
    void pathsThatOnlyLookLikeHealthAreLimited() throws Exception {
        var similar = send(HttpRequest.newBuilder(uri("/healthz")));
        var climbingOut = send(HttpRequest.newBuilder(uri("/health/../v1/runs")));

        assertThat(similar.headers().firstValue("X-RateLimit-Limit")).hasValue("120");
        assertThat(climbingOut.headers().firstValue("X-RateLimit-Limit")).hasValue("120");
    }

    @Autowired
    org.springframework.context.ApplicationContext context;

    /** A real API key of a fresh organization: the limit is per key. */
    private String newKey() {
        return new io.dagy.gateway.support.TestOrganizations(context).key(
                new io.dagy.contracts.identity.OrgId("limits-" + UUID.randomUUID().toString().substring(0, 8)),
                io.dagy.contracts.identity.Role.VIEWER);
    }

    @Test
    void requestsWithoutCredentialsAreLimitedTooAndRefusedBeforeAuthentication() throws Exception {
        String client = uniqueAddress();
        for (int i = 1; i <= 200; i++) {
            assertThat(send(HttpRequest.newBuilder(uri("/v1/runs")).header("X-Forwarded-For", client)).statusCode())
                    .as("request %d", i).isEqualTo(401);
        }
        var refused = send(HttpRequest.newBuilder(uri("/v1/runs")).header("X-Forwarded-For", client));

        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(json.readTree(refused.body()).get("code").asString()).isEqualTo("rate_limited");
    }

    /** A documentation address (2001:db8::/32) no other test of this context uses. */
    private static String uniqueAddress() {
        var random = ThreadLocalRandom.current();
        return String.format("2001:db8:%x:%x::%x", random.nextInt(0x10000), random.nextInt(0x10000),
                1 + random.nextInt(0xfffe));
    }

    private HttpResponse<String> ping(String token) throws Exception {
        return send(HttpRequest.newBuilder(uri("/test/edge/ping")).header("Authorization", "Bearer " + token));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
