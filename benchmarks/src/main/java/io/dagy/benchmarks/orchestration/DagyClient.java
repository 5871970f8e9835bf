package io.dagy.benchmarks.orchestration;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The REST calls the benchmark makes, as a user's client would make them. */
final class DagyClient {

    private static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final JsonMapper json = JsonMapper.builder().build();
    private final URI base;
    private final String apiKey;

    DagyClient(URI base, String apiKey) {
        this.base = base;
        this.apiKey = apiKey;
    }

    /** A new API key of the caller's organization with the role (e.g. {@code worker}); the key itself. */
    String createKey(String name, String role) {
        return expect(201, send("POST", "/v1/api-keys", Map.of("name", name, "role", role)), "create key " + name)
                .get("key").asString();
    }

    void putDeployment(String name, Map<String, Object> spec) {
        expect(200, send("PUT", "/v1/deployments/" + name, spec), "PUT deployment " + name);
    }

    String startRun(String deployment) {
        JsonNode response = expect(202, send("POST", "/v1/deployments/" + deployment + "/runs", Map.of("params", Map.of())),
                "start run of " + deployment);
        return response.get("run_id").asString();
    }

    /** Waits until every run of the deployment is terminal; returns how many there were. */
    int awaitRuns(String deployment, int expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int terminal = 0;
            int seen = 0;
            String cursor = null;
            do {
                JsonNode page = expect(200, send("GET", "/v1/runs?limit=100&deployment=" + deployment
                        + (cursor == null ? "" : "&cursor=" + cursor), null), "list runs");
                for (JsonNode run : page.get("items")) {
                    seen++;
                    if (TERMINAL.contains(run.get("status").asString())) {
                        terminal++;
                    }
                }
                JsonNode next = page.get("next_cursor");
                cursor = next == null || next.isNull() ? null : next.asString();
            } while (cursor != null);
            if (seen >= expected && terminal == seen) {
                return seen;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(deployment + ": " + terminal + " of " + expected
                        + " runs ended within " + timeout);
            }
            Thread.sleep(250);
        }
    }

    Run run(String runId) {
        JsonNode run = expect(200, send("GET", "/v1/runs/" + runId, null), "GET run " + runId);
        Map<String, Attempt> tasks = new HashMap<>();
        List<String> order = new ArrayList<>();
        List<JsonNode> all = new ArrayList<>();
        run.get("tasks").forEach(all::add);
        JsonNode next = run.path("tasks_next_cursor");
        while (!next.isNull() && !next.isMissingNode()) {
            JsonNode page = expect(200, send("GET", "/v1/runs/" + runId + "/tasks?limit=500&cursor=" + next.asString(),
                    null), "GET tasks of " + runId);
            page.get("items").forEach(all::add);
            next = page.path("next_cursor");
        }
        for (JsonNode task : all) {
            String id = task.get("task_id").asString();
            order.add(id);
            JsonNode attempts = task.get("attempts");
            if (!attempts.isEmpty()) {
                JsonNode last = attempts.get(attempts.size() - 1);
                tasks.put(id, new Attempt(task.get("status").asString(), instant(last, "dispatched_at"),
                        instant(last, "started_at"), instant(last, "ended_at")));
            } else {
                tasks.put(id, new Attempt(task.get("status").asString(), null, null, null));
            }
        }
        return new Run(runId, run.get("status").asString(), instant(run, "started_at"), instant(run, "ended_at"),
                order, tasks);
    }

    record Run(String id, String status, Instant startedAt, Instant endedAt, List<String> order,
               Map<String, Attempt> tasks) {
    }

    /** A task's last attempt. */
    record Attempt(String status, Instant dispatchedAt, Instant startedAt, Instant endedAt) {
    }

    private static Instant instant(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : Instant.parse(value.asString());
    }

    private HttpResponse<String> send(String method, String path, Object body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(120))
                .header("Accept", "application/json")
                .header("Authorization", "Bearer " + apiKey);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body)));
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private JsonNode expect(int status, HttpResponse<String> response, String what) {
        if (response.statusCode() != status) {
            throw new IllegalStateException(what + ": HTTP " + response.statusCode() + " " + response.body());
        }
        return json.readTree(response.body());
    }
}
