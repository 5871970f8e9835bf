package io.dagy.gateway.support;

import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** Calls of the API as a client with a bearer token makes them, and the check every refusal must pass. */
public final class ApiCalls {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ApiCalls() {
    }

    public static HttpResponse<String> send(int port, String key, String method, String path, String body)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Publishes a deployment (200) and answers its name. */
    public static String deploy(int port, String key, String name, String dag) throws Exception {
        HttpResponse<String> response = send(port, key, "PUT", "/v1/deployments/" + name, dag);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return name;
    }

    /** Starts a run of a deployment (202) and answers its id. */
    public static String startRun(int port, String key, String deployment, String body) throws Exception {
        HttpResponse<String> response = send(port, key, "POST", "/v1/deployments/" + deployment + "/runs", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return JSON.readTree(response.body()).get("run_id").asString();
    }

    /** A problem response (RFC 9457) with this status and stable code. */
    public static void assertProblem(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(JSON.readTree(response.body()).get("code").asString()).isEqualTo(code);
    }
}
