package io.dagy.gateway.admin;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import io.dagy.gateway.support.TestOrganizations;
import io.dagy.saga.run.RunOrchestration;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A poisoned run on the real run orchestration: a handler of its processing group fails every time for one run.
 * With one segment every run shares it, so before dead letters the poisoned run stopped every other run; now it is
 * parked after its attempts, the other run finishes, an operator sees the poisoned run listed with its cause, and
 * after the fix a retry finishes it too. Evicting drops a parked run's events unhandled.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "dagy.event-store.processor-segments=1")
@ActiveProfiles({"local", "test"})
@Import(DeadLetterApiTest.PoisonedRuns.class)
class DeadLetterApiTest {

    private static final String PROCESSOR = RunOrchestration.PROCESSING_GROUP;

    /**
     * Part of the run orchestration's processing group: fails the runs started with a poison marker that is listed
     * here, every time, until the marker is removed (the fix).
     */
    @ProcessingGroup(RunOrchestration.PROCESSING_GROUP)
    static class PoisonedRuns {
        static final Set<String> POISONS = ConcurrentHashMap.newKeySet();
        static final Map<String, AtomicInteger> CALLS = new ConcurrentHashMap<>();

        @EventHandler
        void on(TasksReady event) {
            Object poison = event.params().get("poison");
            if (poison == null) {
                return;
            }
            CALLS.computeIfAbsent(event.runId().value(), k -> new AtomicInteger()).incrementAndGet();
            if (POISONS.contains(poison.toString())) {
                throw new IllegalStateException("run " + event.runId().value() + " is poisoned");
            }
        }

        static int calls(String runId) {
            AtomicInteger calls = CALLS.get(runId);
            return calls == null ? 0 : calls.get();
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    LocalOwnerKey ownerKey;

    @Autowired
    JsonMapper json;

    @Autowired
    ApplicationContext context;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aPoisonedRunIsParkedWhileAnotherRunOfItsSegmentFinishesAndARetryAfterTheFixFinishesIt() throws Exception {
        String deployment = deploy();
        String poison = UUID.randomUUID().toString();
        PoisonedRuns.POISONS.add(poison);
        String poisoned = startRun(deployment, Map.of("poison", poison));

        String healthy = startRun(deployment, Map.of());

        assertThat(awaitFinished(healthy).get("status").asString()).isEqualTo("SUCCEEDED");
        JsonNode parked = awaitParked(poisoned);
        assertThat(parked.get("processor").asString()).isEqualTo(PROCESSOR);
        assertThat(parked.get("size").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(parked.get("claimed").asBoolean()).isFalse();
        assertThat(parked.at("/cause/type").asString()).isEqualTo(IllegalStateException.class.getName());
        assertThat(parked.at("/cause/message").asString()).isEqualTo("run " + poisoned + " is poisoned");
        assertThat(parked.at("/event/type").asString()).isEqualTo(TasksReady.class.getName());
        assertThat(parked.get("attempts").asInt()).isEqualTo(2);
        Instant firstFailure = Instant.parse(parked.get("first_failure_at").asString());
        Instant parkedAt = Instant.parse(parked.get("parked_at").asString());
        assertThat(firstFailure).isBefore(parkedAt);
        assertThat(Instant.parse(parked.get("last_failure_at").asString())).isAfterOrEqualTo(parkedAt);
        assertThat(PoisonedRuns.calls(poisoned)).as("tried as often as the attempts allow, then parked").isEqualTo(2);
        assertThat(run(poisoned).get("status").asString()).isEqualTo("RUNNING");

        PoisonedRuns.POISONS.remove(poison);
        HttpResponse<String> retried = post("/v1/admin/dead-letters/" + PROCESSOR + "/" + parked.get("key").asString()
                + "/retry", ownerKey.key());

        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
        JsonNode result = json.readTree(retried.body());
        assertThat(result.get("resolved").asBoolean()).isTrue();
        assertThat(result.get("sequence").asString()).isEqualTo(poisoned);
        assertThat(parkedSequence(poisoned)).isEmpty();
        assertThat(awaitFinished(poisoned).get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(PoisonedRuns.calls(poisoned)).isEqualTo(3);
    }

    @Test
    void aRetryThatFailsAgainKeepsTheSequenceWithItsNewFailure() throws Exception {
        String poison = UUID.randomUUID().toString();
        PoisonedRuns.POISONS.add(poison);
        String poisoned = startRun(deploy(), Map.of("poison", poison));
        JsonNode parked = awaitParked(poisoned);

        HttpResponse<String> retried = post("/v1/admin/dead-letters/" + PROCESSOR + "/" + parked.get("key").asString()
                + "/retry", ownerKey.key());

        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
        JsonNode result = json.readTree(retried.body());
        assertThat(result.get("resolved").asBoolean()).isFalse();
        assertThat(result.at("/remaining/cause/message").asString()).isEqualTo("run " + poisoned + " is poisoned");
        assertThat(Instant.parse(result.at("/remaining/last_failure_at").asString()))
                .isAfter(Instant.parse(parked.get("last_failure_at").asString()));
        assertThat(PoisonedRuns.calls(poisoned)).isEqualTo(3);
        assertThat(parkedSequence(poisoned)).isPresent();
        PoisonedRuns.POISONS.remove(poison);
    }

    @Test
    void evictingASequenceDropsItsEventsUnhandled() throws Exception {
        String poison = UUID.randomUUID().toString();
        PoisonedRuns.POISONS.add(poison);
        String poisoned = startRun(deploy(), Map.of("poison", poison));
        JsonNode parked = awaitParked(poisoned);
        PoisonedRuns.POISONS.remove(poison);

        HttpResponse<String> evicted = delete("/v1/admin/dead-letters/" + PROCESSOR + "/" + parked.get("key").asString(),
                ownerKey.key());

        assertThat(evicted.statusCode()).as(evicted.body()).isEqualTo(204);
        assertThat(parkedSequence(poisoned)).isEmpty();
        assertThat(PoisonedRuns.calls(poisoned)).as("the evicted event was not handled again").isEqualTo(2);
        HttpResponse<String> again = delete("/v1/admin/dead-letters/" + PROCESSOR + "/" + parked.get("key").asString(),
                ownerKey.key());
        assertProblem(again, 404, "dead_letter_sequence_not_found");
    }

    @Test
    void onlyAnOwnerOfTheDefaultOrganizationOperatesDeadLettersAndUnknownNamesAreProblems() throws Exception {
        TestOrganizations organizations = new TestOrganizations(context);
        String otherOwner = organizations.key(new OrgId("m-" + UUID.randomUUID().toString().substring(0, 12)), Role.OWNER);
        String defaultAdmin = organizations.key(OrgId.DEFAULT, Role.ADMIN);
        String key = DeadLetterController.keyOf("r-unknown");

        assertProblem(get("/v1/admin/dead-letters", otherOwner), 403, "forbidden");
        assertProblem(get("/v1/admin/dead-letters", defaultAdmin), 403, "forbidden");
        assertProblem(post("/v1/admin/dead-letters/" + PROCESSOR + "/" + key + "/retry", otherOwner), 403, "forbidden");
        assertProblem(delete("/v1/admin/dead-letters/" + PROCESSOR + "/" + key, defaultAdmin), 403, "forbidden");

        assertThat(get("/v1/admin/dead-letters", ownerKey.key()).statusCode()).isEqualTo(200);
        assertProblem(get("/v1/admin/dead-letters?processor=nope", ownerKey.key()), 404, "processor_not_found");
        assertProblem(post("/v1/admin/dead-letters/nope/" + key + "/retry", ownerKey.key()), 404, "processor_not_found");
        assertProblem(post("/v1/admin/dead-letters/" + PROCESSOR + "/" + key + "/retry", ownerKey.key()), 404,
                "dead_letter_sequence_not_found");
        assertProblem(post("/v1/admin/dead-letters/" + PROCESSOR + "/not+base64/retry", ownerKey.key()), 404,
                "dead_letter_sequence_not_found");
        assertProblem(delete("/v1/admin/dead-letters/" + PROCESSOR + "/" + key, ownerKey.key()), 404,
                "dead_letter_sequence_not_found");
    }

    @Test
    void theListingCoversEveryProcessorWithDeadLettersAndKeysSurviveSlashes() throws Exception {
        JsonNode all = json.readTree(get("/v1/admin/dead-letters", ownerKey.key()).body());
        assertThat(all.get("items").isArray()).isTrue();
        assertThat(DeadLetterController.keyOf("r-1/extract")).doesNotContain("/", "+", "=");
        assertThat(get("/v1/admin/dead-letters?processor=run-views", ownerKey.key()).statusCode()).isEqualTo(200);
        assertThat(get("/v1/admin/dead-letters?processor=identity-directory", ownerKey.key()).statusCode()).isEqualTo(200);
        assertProblem(get("/v1/admin/dead-letters?processor=TaskExecutionSagaProcessor", ownerKey.key()), 404,
                "processor_not_found");
    }

    // ------------------------------------------------------------------ helpers

    private JsonNode awaitParked(String runId) {
        return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> parkedSequence(runId), Optional::isPresent).orElseThrow();
    }

    private Optional<JsonNode> parkedSequence(String runId) throws Exception {
        HttpResponse<String> response = get("/v1/admin/dead-letters?processor=" + PROCESSOR, ownerKey.key());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        List<JsonNode> matching = new ArrayList<>();
        json.readTree(response.body()).get("items").forEach(item -> {
            if (item.get("sequence").asString().equals(runId)) {
                matching.add(item);
            }
        });
        return matching.stream().findFirst();
    }

    /** One task, so a run has one {@code TasksReady}: the handler's calls count the attempts on it exactly. */
    /**
     * Seventeen first tasks: more than a run queues in its own commit (16), so the orchestration queues them and a
     * run whose orchestration is parked makes no progress.
     */
    private String deploy() throws Exception {
        String name = "dl-" + UUID.randomUUID().toString().substring(0, 8);
        String tasks = java.util.stream.IntStream.range(0, 17)
                .mapToObj(i -> "{\"id\": \"extract-" + i + "\", \"backend\": {\"type\": \"noop\"}}")
                .collect(java.util.stream.Collectors.joining(", "));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/v1/deployments/" + name))
                .header("Authorization", "Bearer " + ownerKey.key()).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"tasks\": [" + tasks + "]}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return name;
    }

    private String startRun(String deployment, Map<String, String> params) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/v1/deployments/" + deployment + "/runs"))
                .header("Authorization", "Bearer " + ownerKey.key()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(Map.of("params", params)))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return json.readTree(response.body()).get("run_id").asString();
    }

    private JsonNode run(String runId) throws Exception {
        HttpResponse<String> response = get("/v1/runs/" + runId, ownerKey.key());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return json.readTree(response.body());
    }

    private JsonNode awaitFinished(String runId) {
        return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            HttpResponse<String> response = get("/v1/runs/" + runId, ownerKey.key());
            return response.statusCode() == 200 ? json.readTree(response.body()) : null;
        }, run -> run != null && List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(run.get("status").asString()));
    }

    private void assertProblem(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(json.readTree(response.body()).get("code").asString()).isEqualTo(code);
    }

    private HttpResponse<String> get(String path, String key) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + key).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String key) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> delete(String path, String key) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + key).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
