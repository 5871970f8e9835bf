package io.dagy.gateway.run;

import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A run's history, its paged tasks and its live stream, end to end on the local stack. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class RunViewsApiTest {

    @Autowired
    LocalOwnerKey ownerKey;

    @LocalServerPort
    int port;

    @Autowired
    JsonMapper json;

    @Autowired
    EventStorageEngine storageEngine;

    private final HttpClient http = HttpClient.newHttpClient();

    /** One server-sent event as read off the wire. */
    record Sse(String id, String name, JsonNode data) {
    }

    @Test
    void theHistoryHoldsEveryEventOfTheRunAndItsTaskRunsInOrderAPageAtATime() throws Exception {
        String deployment = deploy("""
                {"tasks": [
                  {"id": "extract", "backend": {"type": "noop"}},
                  {"id": "left", "backend": {"type": "noop"}, "depends_on": ["extract"]},
                  {"id": "right", "backend": {"type": "noop"}, "depends_on": ["extract"]},
                  {"id": "load", "backend": {"type": "noop"}, "depends_on": ["left", "right"]}
                ]}""");
        String runId = startRun(deployment);
        awaitStatus(runId, "SUCCEEDED");

        List<JsonNode> events = history(runId, 3);

        long stored = Stream.of("", "/extract", "/left", "/right", "/load")
                .mapToLong(part -> storageEngine.readEvents(runId + part, 0).asStream().count()).sum();
        assertThat(events).hasSize((int) stored);
        assertThat(events.get(0).get("type").asString()).isEqualTo("RunStarted");
        assertThat(events.get(events.size() - 1).get("type").asString()).isEqualTo("RunFinished");
        assertThat(events).extracting(event -> event.get("position").asLong()).isSorted().doesNotHaveDuplicates();
        assertThat(events).allMatch(event -> event.get("aggregate_id").asString().equals(runId)
                || event.get("aggregate_id").asString().startsWith(runId + "/"));
        JsonNode run = json.readTree(get("/v1/runs/" + runId).body());
        assertThat(run.at("/task_counts/succeeded").asInt()).isEqualTo(4);
        assertThat(run.get("task_count").asInt()).isEqualTo(4);
    }

    @Test
    void aClientThatReconnectsWithLastEventIdMissesNothingAndTheStreamEndsWithTheRun() throws Exception {
        String queue = "queue-" + UUID.randomUUID().toString().substring(0, 8);
        String deployment = deploy("""
                {"tasks": [{"id": "remote", "backend": {"type": "worker", "queue": "%s"}},
                           {"id": "after", "backend": {"type": "noop"}, "depends_on": ["remote"]}]}""".formatted(queue));
        String runId = startRun(deployment);

        // first connection: the state; then the client drops
        List<Sse> first = new ArrayList<>();
        try (InputStream body = openStream(runId, null)) {
            first.add(next(new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))));
        }
        assertThat(first.get(0).name()).isEqualTo("state");
        assertThat(first.get(0).data().get("status").asString()).isEqualTo("RUNNING");

        // meanwhile the run goes on and finishes
        String worker = workerKey();
        assertThat(post("/v1/workers/poll", "{\"queue\": \"%s\", \"worker_id\": \"w1\", \"wait_seconds\": 15}"
                .formatted(queue), worker).statusCode()).isEqualTo(200);
        assertThat(post("/v1/workers/attempts/" + runId + "/remote/1/complete", "{\"worker_id\": \"w1\"}", worker)
                .statusCode()).isEqualTo(202);
        awaitStatus(runId, "SUCCEEDED");

        // second connection resumes after the last id seen, and ends once the run's end was sent
        List<Sse> second = new ArrayList<>();
        try (InputStream body = openStream(runId, first.get(first.size() - 1).id())) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            for (Sse event = next(reader); event != null; event = next(reader)) {
                second.add(event);
            }
        }

        assertThat(second).isNotEmpty();
        assertThat(second.get(second.size() - 1).name()).isEqualTo("end");
        assertThat(second.get(second.size() - 2).name()).isEqualTo("RunFinished");
        List<Long> streamed = new ArrayList<>();
        Stream.concat(first.stream().skip(1), second.stream().limit(second.size() - 1))
                .forEach(event -> streamed.add(Long.parseLong(event.id())));
        long statePosition = Long.parseLong(first.get(0).id());
        List<Long> stored = history(runId, 100).stream().map(event -> event.get("position").asLong())
                .filter(position -> position > statePosition).toList();
        assertThat(streamed).containsExactlyElementsOf(stored);

        // a third connection from the middle of the second gets exactly the rest
        int middle = second.size() / 2;
        List<Sse> third = new ArrayList<>();
        try (InputStream body = openStream(runId, second.get(middle).id())) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            for (Sse event = next(reader); event != null; event = next(reader)) {
                third.add(event);
            }
        }
        assertThat(third).extracting(Sse::id).containsExactlyElementsOf(
                second.subList(middle + 1, second.size()).stream().map(Sse::id).toList());
    }

    @Test
    void aStreamOfAFinishedRunSendsItsStateAndEnds() throws Exception {
        String deployment = deploy("""
                {"tasks": [{"id": "only", "backend": {"type": "noop"}}]}""");
        String runId = startRun(deployment);
        awaitStatus(runId, "SUCCEEDED");

        List<Sse> events = new ArrayList<>();
        try (InputStream body = openStream(runId, null)) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            for (Sse event = next(reader); event != null; event = next(reader)) {
                events.add(event);
            }
        }

        assertThat(events.get(0).name()).isEqualTo("state");
        assertThat(events.get(0).data().get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(events.get(0).data().at("/counts/succeeded").asInt()).isEqualTo(1);
        assertThat(events.get(events.size() - 1).name()).isEqualTo("end");
    }

    @Test
    void unknownRunsBadCursorsAndBadEventIdsAreRefusedAsProblems() throws Exception {
        assertThat(get("/v1/runs/r-missing/events").statusCode()).isEqualTo(404);
        assertThat(get("/v1/runs/r-missing/tasks").statusCode()).isEqualTo(404);
        HttpResponse<String> stream = http.send(HttpRequest.newBuilder(uri("/v1/runs/r-missing/stream"))
                .header("Authorization", "Bearer " + ownerKey.key()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(stream.statusCode()).isEqualTo(404);
        String runId = startRun(deploy("""
                {"tasks": [{"id": "only", "backend": {"type": "noop"}}]}"""));
        HttpResponse<String> badCursor = get("/v1/runs/" + runId + "/events?cursor=bm90LWEtY3Vyc29y");
        assertThat(badCursor.statusCode()).isEqualTo(400);
        assertThat(json.readTree(badCursor.body()).get("code").asString()).isEqualTo("validation_failed");
        assertThat(get("/v1/runs/" + runId + "/tasks?limit=0").statusCode()).isEqualTo(400);
        HttpResponse<String> badId = http.send(HttpRequest.newBuilder(uri("/v1/runs/" + runId + "/stream"))
                .header("Authorization", "Bearer " + ownerKey.key()).header("Last-Event-ID", "x1").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(badId.statusCode()).isEqualTo(400);
        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(uri("/v1/runs/" + runId + "/events")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    private List<JsonNode> history(String runId, int limit) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        String cursor = null;
        do {
            HttpResponse<String> response = get("/v1/runs/" + runId + "/events?limit=" + limit
                    + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode page = json.readTree(response.body());
            page.get("items").forEach(events::add);
            JsonNode next = page.path("next_cursor");
            cursor = next.isNull() || next.isMissingNode() ? null : next.asString();
        } while (cursor != null);
        return events;
    }

    private InputStream openStream(String runId, String lastEventId) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/v1/runs/" + runId + "/stream"))
                .header("Authorization", "Bearer " + ownerKey.key()).header("Accept", "text/event-stream");
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    /** The next event, or null when the server ended the response. */
    private Sse next(BufferedReader reader) throws Exception {
        String id = null;
        String name = null;
        StringBuilder data = new StringBuilder();
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.isEmpty()) {
                if (name != null || data.length() > 0) {
                    return new Sse(id, name, json.readTree(data.toString()));
                }
                continue;
            }
            if (line.startsWith("id:")) {
                id = line.substring(3).trim();
            } else if (line.startsWith("event:")) {
                name = line.substring(6).trim();
            } else if (line.startsWith("data:")) {
                data.append(line.substring(5));
            }
        }
        return null;
    }

    private void awaitStatus(String runId, String status) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            HttpResponse<String> response = get("/v1/runs/" + runId);
            return response.statusCode() == 200 && status.equals(json.readTree(response.body()).get("status").asString());
        });
    }

    private String deploy(String dag) throws Exception {
        return ApiCalls.deploy(port, ownerKey.key(), "views-" + UUID.randomUUID().toString().substring(0, 8), dag);
    }

    private String startRun(String deployment) throws Exception {
        return ApiCalls.startRun(port, ownerKey.key(), deployment, "{}");
    }

    private String workerKey() throws Exception {
        HttpResponse<String> created = post("/v1/api-keys", "{\"name\": \"views worker\", \"role\": \"worker\"}",
                ownerKey.key());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json.readTree(created.body()).get("key").asString();
    }

    private HttpResponse<String> post(String path, String body, String key) throws Exception {
        return ApiCalls.send(port, key, "POST", path, body);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return ApiCalls.send(port, ownerKey.key(), "GET", path, null);
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
