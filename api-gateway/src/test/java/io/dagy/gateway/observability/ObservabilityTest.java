package io.dagy.gateway.observability;

import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.junit.jupiter.api.Test;
import org.springframework.context.ApplicationContext;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * After runs on the local stack, the management port's Prometheus endpoint shows Dagy's and Axon's meters with the
 * values the runs imply, and one run's spans form one tree from the REST request through the backend and its report to the run's end. Nothing
 * timed is asserted: counts, tags and the parent of each span.
 */
@SpringBootTest(classes = {DagyApplication.class, ObservabilityTest.InMemorySpans.class},
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class ObservabilityTest {

    @TestConfiguration
    static class InMemorySpans {
        static final InMemorySpanExporter EXPORTER = InMemorySpanExporter.create();

        @Bean
        SpanProcessor inMemorySpans() {
            return SimpleSpanProcessor.create(EXPORTER);
        }
    }

    @Autowired
    LocalOwnerKey ownerKey;

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @Autowired
    JsonMapper json;

    @Autowired
    MetricsPoller poller;

    @Autowired
    EventProcessingConfiguration processing;

    @Autowired
    ApplicationContext context;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void thePrometheusEndpointCountsRunsAttemptsRetriesAndRequestsByTheirTags() throws Exception {
        String deployment = deploy("""
                {"tasks": [
                  {"id": "extract", "backend": {"type": "noop"}},
                  {"id": "load", "backend": {"type": "noop"}, "depends_on": ["extract"]}
                ]}""");
        String failing = deploy("""
                {"tasks": [
                  {"id": "flaky", "backend": {"type": "local", "command": ["sh", "-c", "exit 3"]},
                   "retry": {"max_attempts": 2, "initial_interval": "PT0.1S", "jitter": false, "retry_on": ["*"]}}
                ]}""");

        assertThat(awaitFinished(startRun(deployment)).get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(awaitFinished(startRun(deployment)).get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(awaitFinished(startRun(failing)).get("status").asString()).isEqualTo("FAILED");
        poller.pollNow();

        // the counters move after the view's commit: wait for the third run's
        Map<String, Double> meters = await().atMost(Duration.ofSeconds(30)).until(this::scrape,
                m -> value(m, "dagy_runs_finished_total", "deployment", failing, "status", "FAILED") == 1.0);
        assertThat(value(meters, "dagy_runs_started_total", "deployment", deployment)).isEqualTo(2.0);
        assertThat(value(meters, "dagy_runs_finished_total", "deployment", deployment, "status", "SUCCEEDED")).isEqualTo(2.0);
        assertThat(value(meters, "dagy_runs_finished_total", "deployment", deployment, "status", "FAILED")).isZero();
        assertThat(value(meters, "dagy_run_duration_seconds_count", "deployment", deployment, "status", "SUCCEEDED"))
                .isEqualTo(2.0);
        // four noop attempts started and succeeded; the flaky task's two attempts failed, one of them retried
        assertThat(value(meters, "dagy_task_dispatch_to_start_seconds_count", "backend", "noop")).isEqualTo(4.0);
        assertThat(value(meters, "dagy_task_attempt_duration_seconds_count", "backend", "noop", "outcome", "succeeded"))
                .isEqualTo(4.0);
        assertThat(value(meters, "dagy_task_attempt_duration_seconds_count", "backend", "local", "outcome", "failed"))
                .isEqualTo(2.0);
        assertThat(value(meters, "dagy_task_retries_total", "backend", "local")).isEqualTo(1.0);
        // DynamoDB requests by table and operation; the poller's gauges; Axon's processor meters
        assertThat(meters.entrySet().stream().filter(e -> e.getKey().startsWith("dagy_dynamodb_requests_total{")
                && e.getKey().contains("operation=\"TransactWriteItems\"")).mapToDouble(Map.Entry::getValue).sum())
                .isPositive();
        assertThat(meters.keySet()).anyMatch(name -> name.startsWith("dagy_sqs_queue_depth{"));
        assertThat(meters.keySet()).anyMatch(name -> name.startsWith("dagy_sqs_dlq_size{"));
        assertThat(value(meters, "dagy_processor_lag_events", "processor", "run-views")).isGreaterThanOrEqualTo(0.0);
        // one deadline fired: the flaky task's retry (its timeouts were cancelled)
        assertThat(value(meters, "dagy_deadline_lag_seconds_count", "deadline", "retry")).isEqualTo(1.0);
        assertThat(meters.keySet()).anyMatch(name -> name.contains("processor=\"run-views\""));
        // Axon's handling timers count and sum, and compute no percentiles on the node (decision 99)
        assertThat(meters.keySet()).anyMatch(name -> name.startsWith("eventProcessor_allTimer_seconds_count{")
                && name.contains("processorName=\"run-views\""));
        assertThat(meters.keySet()).noneMatch(name -> name.contains("quantile="));
    }

    @Test
    void aStoppedProcessorsLagCountsTheEventsItHasNotHandledAndReturnsToZeroOnceItCatchesUp() throws Exception {
        String deployment = deploy("""
                {"tasks": [{"id": "only", "backend": {"type": "noop"}}]}""");
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            poller.pollNow();
            return value(scrape(), "dagy_processor_lag_events", "processor", "usage");
        }, lag -> lag == 0.0);
        StreamingEventProcessor usage = processing.eventProcessor("usage", StreamingEventProcessor.class).orElseThrow();
        usage.shutdownAsync().get(30, TimeUnit.SECONDS);
        try {
            awaitFinished(startRun(deployment));
            poller.pollNow();
            Map<String, Double> meters = scrape();
            // a one-task run appends at least: run started, task queued, dispatched, started, succeeded, finished
            assertThat(value(meters, "dagy_processor_lag_events", "processor", "usage")).isGreaterThanOrEqualTo(6.0);
            assertThat(value(meters, "dagy_processor_lag_seconds", "processor", "usage")).isPositive();
        } finally {
            usage.start();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            poller.pollNow();
            Map<String, Double> meters = scrape();
            return value(meters, "dagy_processor_lag_events", "processor", "usage") == 0.0
                    && value(meters, "dagy_processor_lag_seconds", "processor", "usage") == 0.0
                    && value(meters, "dagy_processor_lag_events", "processor", "run-views") == 0.0;
        });
    }

    @Test
    void theManagementEndpointIsOnItsOwnPortAndTheApiPortHasNone() throws Exception {
        assertThat(managementPort).isNotEqualTo(port);
        assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/prometheus"))
                .header("Authorization", "Bearer " + ownerKey.key()).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(404);
    }

    @Test
    void aRunsSpansFormOneTreeFromTheRequestThroughTheBackendAndItsReportToTheRunsEnd() throws Exception {
        String deployment = deploy("""
                {"tasks": [{"id": "only", "backend": {"type": "noop"}}]}""");
        InMemorySpans.EXPORTER.reset();
        String runId = startRun(deployment);
        awaitFinished(runId);

        List<SpanData> spans = await().atMost(Duration.ofSeconds(30)).until(InMemorySpans.EXPORTER::getFinishedSpanItems,
                all -> all.stream().anyMatch(s -> s.getName().startsWith("POST /v1/deployments/"))
                        && all.stream().anyMatch(s -> s.getName().contains("TaskExecutionSaga")
                        && s.getName().contains("TaskAttemptDispatched"))
                        && all.stream().anyMatch(s -> s.getName().startsWith("RunViewProjection.on(RunFinished")));
        SpanData request = spans.stream().filter(s -> s.getName().equals("POST /v1/deployments/{name}/runs")).findFirst()
                .orElseThrow();
        List<SpanData> tree = spans.stream().filter(s -> s.getTraceId().equals(request.getTraceId())).toList();
        Map<String, SpanData> byId = tree.stream().collect(Collectors.toMap(SpanData::getSpanId, s -> s));
        // every span of the trace hangs under the request's
        tree.stream().filter(s -> s != request).forEach(span ->
                assertThat(reachesRoot(span, byId, request)).as(span.getName()).isTrue());
        Set<String> names = tree.stream().map(SpanData::getName).collect(Collectors.toSet());
        assertThat(names).anyMatch(n -> n.contains("CommandBus.dispatchCommand"));
        assertThat(names).anyMatch(n -> n.startsWith("RunStarter.handle"));
        assertThat(names).anyMatch(n -> n.startsWith("StreamingEventProcessor.process(RunStarted)"));
        assertThat(names).anyMatch(n -> n.startsWith("RunViewProjection.on(RunStarted"));
        assertThat(names).anyMatch(n -> n.startsWith("RunViewProjection.on(TaskAttemptDispatched"));
        // the saga's dispatch to the backend, and the worker hand-off, in the request's trace
        assertThat(names).anyMatch(n -> n.startsWith("TaskExecutionSaga.on(TaskAttemptDispatched"));
        assertThat(names).anyMatch(n -> n.startsWith("WorkerHandOff.on(TaskAttemptDispatched"));
        // the backend's report, the task's end, the run's decision and its end, all in the same trace
        assertThat(names).anyMatch(n -> n.equals("CommandBus.dispatchCommand(CompleteTaskAttempt)"));
        assertThat(names).anyMatch(n -> n.startsWith("TaskExecutionSaga.on(TaskRunFinished"));
        assertThat(names).anyMatch(n -> n.startsWith("RunViewProjection.on(RunFinished"));
    }

    @Test
    void aWorkerGetsTheDispatchsTraceparentAndItsReportWithItContinuesTheRunsTrace() throws Exception {
        String queue = "obs-" + UUID.randomUUID().toString().substring(0, 8);
        String deployment = deploy("""
                {"tasks": [{"id": "remote", "backend": {"type": "worker", "queue": "%s"}}]}""".formatted(queue));
        String workerKey = new TestOrganizations(context).key(OrgId.DEFAULT, Role.WORKER);
        InMemorySpans.EXPORTER.reset();
        String runId = startRun(deployment);

        HttpResponse<String> polled = await().atMost(Duration.ofSeconds(30)).until(() -> ApiCalls.send(port, workerKey,
                "POST", "/v1/workers/poll", "{\"queue\": \"%s\", \"worker_id\": \"w1\", \"wait_seconds\": 1}"
                        .formatted(queue)), response -> response.statusCode() == 200);
        String traceparent = json.readTree(polled.body()).get("traceparent").asString();
        SpanData request = InMemorySpans.EXPORTER.getFinishedSpanItems().stream()
                .filter(s -> s.getName().equals("POST /v1/deployments/{name}/runs")).findFirst().orElseThrow();
        assertThat(traceparent).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
        assertThat(traceparent.split("-")[1]).isEqualTo(request.getTraceId());

        HttpResponse<String> done = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/v1/workers/attempts/" + runId + "/remote/1/complete"))
                .header("Authorization", "Bearer " + workerKey).header("Content-Type", "application/json")
                .header("traceparent", traceparent)
                .POST(HttpRequest.BodyPublishers.ofString("{\"worker_id\": \"w1\", \"output\": {}}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(done.statusCode()).as(done.body()).isEqualTo(202);
        assertThat(awaitFinished(runId).get("status").asString()).isEqualTo("SUCCEEDED");
        await().atMost(Duration.ofSeconds(30)).until(() -> InMemorySpans.EXPORTER.getFinishedSpanItems().stream()
                .anyMatch(s -> s.getName().startsWith("RunViewProjection.on(RunFinished")
                        && s.getTraceId().equals(request.getTraceId())));
    }

    private static boolean reachesRoot(SpanData span, Map<String, SpanData> byId, SpanData root) {
        SpanData at = span;
        for (int hops = 0; hops < 100 && at != null; hops++) {
            if (at.getSpanId().equals(root.getSpanId())) {
                return true;
            }
            at = byId.get(at.getParentSpanId());
        }
        return false;
    }

    private Map<String, Double> scrape() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + managementPort + "/actuator/prometheus")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return parse(response.body());
    }

    /** Prometheus text format: series (name with labels) to value. */
    static Map<String, Double> parse(String body) {
        Pattern line = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{.*})?) (\\S+)$");
        return body.lines().filter(l -> !l.startsWith("#")).map(line::matcher).filter(Matcher::matches)
                .collect(Collectors.toMap(m -> m.group(1), m -> Double.parseDouble(m.group(2)), (a, b) -> a));
    }

    /** The sum of a meter's series whose labels include these name/value pairs (0 when none). */
    static double value(Map<String, Double> meters, String name, String... labels) {
        return meters.entrySet().stream().filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
                .filter(e -> {
                    for (int i = 0; i < labels.length; i += 2) {
                        if (!e.getKey().contains(labels[i] + "=\"" + labels[i + 1] + "\"")) {
                            return false;
                        }
                    }
                    return true;
                }).mapToDouble(Map.Entry::getValue).sum();
    }

    private String deploy(String dag) throws Exception {
        String name = "obs-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> response = send("PUT", "/v1/deployments/" + name, dag);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return name;
    }

    private String startRun(String deployment) throws Exception {
        HttpResponse<String> response = send("POST", "/v1/deployments/" + deployment + "/runs", "{\"params\": {}}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return json.readTree(response.body()).get("run_id").asString();
    }

    private JsonNode awaitFinished(String runId) {
        return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            HttpResponse<String> response = send("GET", "/v1/runs/" + runId, null);
            return response.statusCode() == 200 ? json.readTree(response.body()) : null;
        }, run -> run != null && List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(run.get("status").asString()));
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + ownerKey.key()).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
