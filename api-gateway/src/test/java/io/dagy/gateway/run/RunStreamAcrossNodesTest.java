package io.dagy.gateway.run;

import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two nodes on one set of tables: a client watches a run on one node while the run is started, worked and finished
 * through the other. Every change reaches the watcher, whichever node appended or projected it.
 */
class RunStreamAcrossNodesTest {

    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void aStreamOnOneNodeSeesEveryChangeMadeThroughAnother() throws Exception {
        String environment = "streams-" + UUID.randomUUID().toString().substring(0, 8);
        try (ConfigurableApplicationContext working = start(environment);
             ConfigurableApplicationContext watching = start(environment)) {
            URI work = base(working);
            URI watch = base(watching);
            String key = working.getBean(LocalOwnerKey.class).key();
            String queue = "q-" + UUID.randomUUID().toString().substring(0, 8);
            String deployment = "across-" + UUID.randomUUID().toString().substring(0, 8);
            HttpResponse<String> published = send(work, "PUT", "/v1/deployments/" + deployment, key, """
                    {"tasks": [{"id": "remote", "backend": {"type": "worker", "queue": "%s"}},
                               {"id": "after", "backend": {"type": "noop"}, "depends_on": ["remote"]}]}"""
                    .formatted(queue));
            assertThat(published.statusCode()).as(published.body()).isEqualTo(200);
            HttpResponse<String> started = send(work, "POST", "/v1/deployments/" + deployment + "/runs", key, "{}");
            String runId = json.readTree(started.body()).get("run_id").asString();

            CompletableFuture<List<String>> streamed = CompletableFuture.supplyAsync(() -> stream(watch, key, runId));
            HttpResponse<String> workerKey = send(work, "POST", "/v1/api-keys", key,
                    "{\"name\": \"across worker\", \"role\": \"worker\"}");
            String worker = json.readTree(workerKey.body()).get("key").asString();
            assertThat(send(work, "POST", "/v1/workers/poll", worker,
                    "{\"queue\": \"%s\", \"worker_id\": \"w1\", \"wait_seconds\": 15}".formatted(queue)).statusCode())
                    .isEqualTo(200);
            assertThat(send(work, "POST", "/v1/workers/attempts/" + runId + "/remote/1/complete", worker,
                    "{\"worker_id\": \"w1\"}").statusCode()).isEqualTo(202);

            List<String> events = streamed.get(90, TimeUnit.SECONDS);
            assertThat(events.get(0)).startsWith("state:");
            assertThat(events.get(events.size() - 1)).isEqualTo("end");
            assertThat(events).contains("TaskAttemptSucceeded", "RunFinished");
            await().atMost(Duration.ofSeconds(30)).until(() -> json.readTree(send(watch, "GET", "/v1/runs/" + runId,
                    key, null).body()).get("status").asString().equals("SUCCEEDED"));
        }
    }

    /** The names of the stream's events until it ends ({@code state:<status>} for the first). */
    private List<String> stream(URI base, String key, String runId) {
        List<String> names = new ArrayList<>();
        try {
            HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(base.resolve("/v1/runs/" + runId
                            + "/stream")).header("Authorization", "Bearer " + key)
                    .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(response.statusCode()).isEqualTo(200);
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                String name = null;
                String line;
                while ((line = reader.readLine()) != null) {
                    if (line.startsWith("event:")) {
                        name = line.substring(6).trim();
                    } else if (line.startsWith("data:") && "state".equals(name)) {
                        name = "state:" + json.readTree(line.substring(5)).get("status").asString();
                    } else if (line.isEmpty() && name != null) {
                        names.add(name);
                        name = null;
                    }
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return names;
    }

    private HttpResponse<String> send(URI base, String method, String path, String key, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json");
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI base(ConfigurableApplicationContext node) {
        return URI.create("http://127.0.0.1:" + node.getEnvironment().getProperty("local.server.port"));
    }

    private static ConfigurableApplicationContext start(String environment) {
        return new SpringApplicationBuilder(DagyApplication.class).profiles("local", "test")
                .run("--dagy.environment=" + environment, "--server.port=0");
    }
}
