package io.dagy.benchmarks.multinode;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The REST calls of the harness, against one node, as a user's client makes them. */
final class Api {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final URI base;
    private final String apiKey;

    Api(URI base, String apiKey) {
        this.base = base;
        this.apiKey = apiKey;
    }

    JsonNode get(String path) {
        return expect(200, send("GET", path, null), "GET " + path);
    }

    /** Every task of a run, in DAG order: {@code GET /v1/runs/{id}} holds the first page, {@code /tasks} the rest. */
    java.util.List<JsonNode> tasks(String runId) {
        java.util.List<JsonNode> tasks = new java.util.ArrayList<>();
        JsonNode run = get("/v1/runs/" + runId);
        run.get("tasks").forEach(tasks::add);
        JsonNode next = run.path("tasks_next_cursor");
        while (!next.isNull() && !next.isMissingNode()) {
            JsonNode page = get("/v1/runs/" + runId + "/tasks?limit=500&cursor=" + next.asString());
            page.get("items").forEach(tasks::add);
            next = page.path("next_cursor");
        }
        return tasks;
    }

    JsonNode put(String path, Object body) {
        return expect(200, send("PUT", path, body), "PUT " + path);
    }

    JsonNode post(String path, Object body, int status) {
        return expect(status, send("POST", path, body), "POST " + path);
    }

    private HttpResponse<String> send(String method, String path, Object body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
                .header("Accept", "application/json")
                .header("Authorization", "Bearer " + apiKey);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        }
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + base.resolve(path), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode expect(int status, HttpResponse<String> response, String what) {
        if (response.statusCode() != status) {
            throw new IllegalStateException(what + ": HTTP " + response.statusCode() + " " + response.body());
        }
        return JSON.readTree(response.body());
    }
}
