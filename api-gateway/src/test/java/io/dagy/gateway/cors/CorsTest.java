package io.dagy.gateway.cors;

import io.dagy.testendpoints.EdgeApplicationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;

import static io.dagy.testendpoints.EdgeApplicationTest.ALLOWED_ORIGIN;
import static io.dagy.testendpoints.EdgeApplicationTest.OTHER_ALLOWED_ORIGIN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * CORS with {@code DAGY_API_CORS_ALLOWED_ORIGINS} set to two origins. The context also runs Spring's own CORS filter
 * on the same source where Spring Security's will run, so these answers are the ones of the finished edge.
 */
@EdgeApplicationTest
class CorsTest {

    @LocalServerPort
    int port;

    @Autowired
    JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aPreflightFromAnAllowedOriginIsAnsweredWithTheAllowedMethodsAndHeaders() throws Exception {
        var response = send(preflight(ALLOWED_ORIGIN, "POST", "authorization,content-type,idempotency-key,x-dagy-org"));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().allValues("Access-Control-Allow-Origin")).containsExactly(ALLOWED_ORIGIN);
        assertThat(values(response, "Access-Control-Allow-Methods")).containsExactly("GET", "POST", "PUT", "DELETE");
        assertThat(values(response, "Access-Control-Allow-Headers"))
                .containsExactlyInAnyOrder("authorization", "content-type", "idempotency-key", "x-dagy-org");
        assertThat(response.headers().firstValue("Access-Control-Max-Age")).hasValue("1800");
        assertThat(response.headers().firstValue("X-RateLimit-Limit")).as("a preflight takes no token").isEmpty();
    }

    @Test
    void aRequestFromAnAllowedOriginGetsTheHeaderOnceAndMayReadTheRateLimitHeaders() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/test/edge/ping")).header("Origin", OTHER_ALLOWED_ORIGIN));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().allValues("Access-Control-Allow-Origin")).containsExactly(OTHER_ALLOWED_ORIGIN);
        assertThat(values(response, "Access-Control-Expose-Headers"))
                .contains("X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After", "X-Request-Id");
        assertThat(values(response, "Vary")).as("each once, though two CORS filters ran").containsOnlyOnce("Origin");
    }

    @Test
    void anotherOriginGetsNoCorsHeaderAndAForbiddenProblem() throws Exception {
        var request = send(HttpRequest.newBuilder(uri("/test/edge/ping")).header("Origin", "https://evil.example"));
        var preflight = send(preflight("https://evil.example", "DELETE", "authorization"));

        for (var response : List.of(request, preflight)) {
            assertThat(response.statusCode()).isEqualTo(403);
            assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("application/problem+json"));
            assertThat(json.readTree(response.body()).get("code").asString()).isEqualTo("forbidden");
        }
    }

    @Test
    void aPreflightForAMethodOrHeaderNotAllowedIsRefused() throws Exception {
        var patch = send(preflight(ALLOWED_ORIGIN, "PATCH", "content-type"));
        var header = send(preflight(ALLOWED_ORIGIN, "GET", "x-secret-header"));

        assertThat(patch.statusCode()).isEqualTo(403);
        assertThat(header.statusCode()).isEqualTo(403);
    }

    @Test
    void requestsWithoutAnOriginAreNotCorsAndUnchanged() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/test/edge/ping")));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    /** A header's comma-separated values, however many lines carry them. */
    private static List<String> values(HttpResponse<String> response, String header) {
        return response.headers().allValues(header).stream()
                .flatMap(line -> Arrays.stream(line.split(","))).map(String::strip).toList();
    }

    private HttpRequest.Builder preflight(String origin, String method, String headers) {
        return HttpRequest.newBuilder(uri("/test/edge/ping"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", origin)
                .header("Access-Control-Request-Method", method)
                .header("Access-Control-Request-Headers", headers);
    }

    @org.springframework.beans.factory.annotation.Autowired
    io.dagy.gateway.security.LocalOwnerKey ownerKey;

    /** As a signed-in page would: with credentials, except preflights (browsers send those without). */
    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        HttpRequest built = request.build();
        if (!built.method().equals("OPTIONS")) {
            built = HttpRequest.newBuilder(built, (name, value) -> true)
                    .header("Authorization", "Bearer " + ownerKey.key()).build();
        }
        return http.send(built, HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
