package io.dagy.gateway.run;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.Dispatch;
import io.dagy.saga.backend.ExecutionBackend;
import io.dagy.saga.backend.ExecutionBackends;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.core.env.Environment;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The application stops in the middle of a run (its context closes) and a new one starts on the same tables: the run
 * completes, and no attempt is dispatched twice.
 */
class RestartMidRunTest {

    /** Dispatches of every dispatch id, counted over both application contexts. */
    static final Map<String, AtomicInteger> DISPATCHES = new ConcurrentHashMap<>();

    /** A noop backend that counts dispatches; it wins over the application's through {@code @Primary}. */
    @TestConfiguration
    static class CountingBackends {
        @Bean
        @Primary
        ExecutionBackends countingBackends(BackendReports reports) {
            return new ExecutionBackends(List.of(new ExecutionBackend() {
                @Override
                public BackendType type() {
                    return BackendType.NOOP;
                }

                @Override
                public void dispatch(Dispatch dispatch) {
                    DISPATCHES.computeIfAbsent(dispatch.dispatchId(), id -> new AtomicInteger()).incrementAndGet();
                    reports.succeeded(dispatch.dispatchId(), Map.of());
                }

                @Override
                public void cancel(String dispatchId) {
                }
            }));
        }
    }

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aRunInterruptedByARestartCompletesWithNoAttemptDispatchedTwice() throws Exception {
        int tasks = 30;
        StringBuilder dag = new StringBuilder("{\"tasks\": [{\"id\": \"t0\", \"backend\": {\"type\": \"noop\"}}");
        for (int i = 1; i < tasks; i++) {
            dag.append(", {\"id\": \"t").append(i).append("\", \"backend\": {\"type\": \"noop\"}, \"depends_on\": [\"t")
                    .append(i - 1).append("\"]}");
        }
        dag.append("]}");
        String deployment = "restart-" + UUID.randomUUID().toString().substring(0, 8);
        String runId;
        try (ConfigurableApplicationContext first = start()) {
            send(first, "PUT", "/v1/deployments/" + deployment, dag.toString());
            String body = send(first, "POST", "/v1/deployments/" + deployment + "/runs", "{}").body();
            runId = body.replaceAll(".*\"run_id\":\"([^\"]+)\".*", "$1");
            String prefix = runId + "/";
            await().atMost(Duration.ofSeconds(30)).until(() -> DISPATCHES.keySet().stream()
                    .filter(id -> id.startsWith(prefix)).count() >= 5);
        }
        String prefix = runId + "/";
        long dispatchedBeforeRestart = DISPATCHES.keySet().stream().filter(id -> id.startsWith(prefix)).count();

        try (ConfigurableApplicationContext second = start()) {
            await().atMost(Duration.ofSeconds(60)).until(() -> send(second, "GET", "/v1/runs/" + runId, null).body()
                    .contains("\"status\":\"SUCCEEDED\",\"started_at\""));
            EventStorageEngine events = second.getBean(EventStorageEngine.class);
            for (int i = 0; i < tasks; i++) {
                assertThat(events.readEvents(runId + "/t" + i, 0).asStream()
                        .filter(e -> e.getPayload() instanceof TaskAttemptDispatched).count()).as("t" + i).isEqualTo(1);
            }
        }

        assertThat(dispatchedBeforeRestart).isLessThan(tasks);
        assertThat(DISPATCHES.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)))
                .hasSize(tasks)
                .allSatisfy(e -> assertThat(e.getValue().get()).as(e.getKey()).isEqualTo(1));
    }

    /** Both applications are one installation: same tables, and reports in flight at the restart reach the second. */
    private static final String ENVIRONMENT = "restart-" + UUID.randomUUID();

    private static ConfigurableApplicationContext start() {
        return new SpringApplicationBuilder(DagyApplication.class, CountingBackends.class)
                .profiles("local", "test")
                .properties("spring.main.allow-bean-definition-overriding=true")
                .run("--dagy.environment=" + ENVIRONMENT); // an argument outranks the test profile's own environment
    }

    private HttpResponse<String> send(ConfigurableApplicationContext context, String method, String path, String body)
            throws Exception {
        String port = context.getBean(Environment.class).getProperty("local.server.port");
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + context.getBean(LocalOwnerKey.class).key())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
