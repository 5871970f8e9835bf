package io.dagy.gateway.problem;

import io.dagy.gateway.security.LocalOwnerKey;

import io.dagy.gateway.DagyApplication;
import io.dagy.testendpoints.TestEndpoints;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** Every error the application returns is application/problem+json with a stable code. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
@Import(TestEndpoints.class)
class ProblemResponsesTest {

    @Autowired
    LocalOwnerKey ownerKey;

    @LocalServerPort
    int port;

    @Autowired
    JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void anUnknownRouteIsARouteNotFoundProblem() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/v1/no-such-thing")).GET());

        assertProblem(response, 404, "route_not_found");
        assertThat(json.readTree(response.body()).get("instance").asString()).isEqualTo("/v1/no-such-thing");
    }

    @Test
    void aWrongMethodIsAMethodNotAllowedProblemThatListsTheAllowedOnes() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/health")).DELETE());

        assertProblem(response, 405, "method_not_allowed");
        assertThat(response.headers().firstValue("Allow")).hasValue("GET");
    }

    @Test
    void aMalformedJsonBodyIsAMalformedRequestProblemThatDoesNotEchoTheBody() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/test/echo"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"secret-value\", ")));

        assertProblem(response, 400, "malformed_request");
        assertThat(response.body()).doesNotContain("secret-value");
    }

    @Test
    void aBodyOfTheWrongTypeIsAMalformedRequestProblem() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/test/echo"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"x\", \"count\": \"many\"}")));

        assertProblem(response, 400, "malformed_request");
    }

    @Test
    void anUnsupportedMediaTypeIsAProblem() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/test/echo"))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("hello")));

        assertProblem(response, 415, "unsupported_media_type");
    }

    @Test
    void aWellFormedRequestStillWorks() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/test/echo"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"x\", \"count\": 3}")));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(json.readTree(response.body()).get("count").asInt()).isEqualTo(3);
    }

    @Test
    void aConcurrencyConflictIsAConflictProblem() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/test/conflict")).POST(HttpRequest.BodyPublishers.noBody()));

        assertProblem(response, 409, "concurrent_modification");
        assertThat(response.body()).doesNotContain("run-1");
    }

    @Test
    void aProblemRaisedInsideAServletFilterKeepsItsStatusAndCode() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/test/filter/rejects")).GET());

        assertProblem(response, 429, "bad_request");
        assertThat(json.readTree(response.body()).get("detail").asString()).isEqualTo("rejected by a filter");
    }

    @Test
    void aCrashInsideAServletFilterIsAnInternalErrorProblemWithoutInternals() throws Exception {
        var response = send(HttpRequest.newBuilder(uri("/test/filter/crashes")).GET());

        assertProblem(response, 500, "internal_error");
        assertThat(response.body()).doesNotContain("secret internal detail");
        assertThat(json.readTree(response.body()).get("incident").asString()).isNotBlank();
    }

    private void assertProblem(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        JsonNode body = json.readTree(response.body());
        assertThat(body.get("status").asInt()).isEqualTo(status);
        assertThat(body.get("code").asString()).isEqualTo(code);
        assertThat(body.get("type").asString()).isEqualTo("urn:dagy:problem:" + code);
        assertThat(body.get("title").asString()).isNotBlank();
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.header("Authorization", "Bearer " + ownerKey.key()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
