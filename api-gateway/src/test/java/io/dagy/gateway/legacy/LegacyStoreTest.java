package io.dagy.gateway.legacy;

import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import io.dagy.gateway.support.TestOrganizations;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A store written by Dagy before organizations existed (legacy-store/before-tenancy.json, see
 * {@link LegacyStoreFixtureWriter}) still loads and runs after the upgrade: its deployments, runs and queued worker
 * attempt belong to the default organization, and no other organization sees them.
 */
class LegacyStoreTest {

    private static final String DONE_RUN = "r-c5948535-1deb-4ea7-957c-2e354eca0a61";
    private static final String WAITING_RUN = "r-7d406ed5-b960-4622-8f80-9236d3557780";

    private static ConfigurableApplicationContext app;
    private static String owner;
    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();

    @BeforeAll
    static void upgradeTheOldStore() throws IOException {
        String environment = "legacy-" + UUID.randomUUID().toString().substring(0, 8);
        DynamoDbClient dynamoDb = LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint());
        Map<DagyTable, String> names = Arrays.stream(DagyTable.values())
                .collect(Collectors.toMap(table -> table, table -> table.defaultName(environment)));
        new TableBootstrap(dynamoDb).createMissing(names);
        try (InputStream dump = LegacyStoreTest.class.getResourceAsStream("/legacy-store/before-tenancy.json")) {
            TableDump.load(dynamoDb, new String(dump.readAllBytes(), StandardCharsets.UTF_8), names::get);
        }
        app = new SpringApplicationBuilder(DagyApplication.class).profiles("local", "test")
                .run("--dagy.environment=" + environment);
        owner = app.getBean(LocalOwnerKey.class).key();
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    @Test
    void aDeploymentPublishedBeforeTenancyBelongsToTheDefaultOrganizationAndTakesNewVersions() throws Exception {
        assertThat(json.readTree(send(owner, "GET", "/v1/deployments/legacy-done", null).body()).get("version").asInt())
                .isEqualTo(1);

        HttpResponse<String> republished = send(owner, "PUT", "/v1/deployments/legacy-done",
                "{\"tasks\": [{\"id\": \"only\", \"backend\": {\"type\": \"noop\"}}, "
                        + "{\"id\": \"second\", \"backend\": {\"type\": \"noop\"}, \"depends_on\": [\"only\"]}]}");

        assertThat(republished.statusCode()).as(republished.body()).isEqualTo(200);
        assertThat(json.readTree(republished.body()).get("version").asInt()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(20)).until(() -> json.readTree(
                send(owner, "GET", "/v1/deployments/legacy-done", null).body()).get("version").asInt() == 2);
    }

    @Test
    void aRunFinishedBeforeTenancyIsStillReadAndListed() throws Exception {
        JsonNode run = json.readTree(send(owner, "GET", "/v1/runs/" + DONE_RUN, null).body());
        assertThat(run.get("status").asString()).isEqualTo("SUCCEEDED");

        JsonNode listed = json.readTree(send(owner, "GET", "/v1/runs?deployment=legacy-done", null).body());
        assertThat(listed.get("items").findValuesAsString("run_id")).contains(DONE_RUN);
    }

    @Test
    void aLegacyDeploymentStartsNewRunsThatFinish() throws Exception {
        HttpResponse<String> started = send(owner, "POST", "/v1/deployments/legacy-wait/runs", "{}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        String runId = json.readTree(started.body()).get("run_id").asString();

        await().atMost(Duration.ofSeconds(30)).until(() -> send(owner, "GET", "/v1/runs/" + runId, null).body()
                .contains("\"task_id\":\"first\",\"status\":\"SUCCEEDED\""));
    }

    @Test
    void anAttemptQueuedBeforeTenancyIsPolledByAWorkerOfTheDefaultOrganizationAndItsRunFinishes() throws Exception {
        String worker = new TestOrganizations(app).key(OrgId.DEFAULT, Role.WORKER);
        String other = new TestOrganizations(app).key(new OrgId("other-" + UUID.randomUUID().toString().substring(0, 6)),
                Role.WORKER);

        HttpResponse<String> foreign = send(other, "POST", "/v1/workers/poll",
                "{\"queue\": \"legacy-q\", \"worker_id\": \"intruder\", \"wait_seconds\": 0}");
        assertThat(foreign.statusCode()).isEqualTo(204);

        HttpResponse<String> polled = send(worker, "POST", "/v1/workers/poll",
                "{\"queue\": \"legacy-q\", \"worker_id\": \"w1\", \"wait_seconds\": 5}");
        assertThat(polled.statusCode()).as(polled.body()).isEqualTo(200);
        assertThat(json.readTree(polled.body()).get("run_id").asString()).isEqualTo(WAITING_RUN);

        HttpResponse<String> done = send(worker, "POST", "/v1/workers/attempts/" + WAITING_RUN + "/by-worker/1/complete",
                "{\"worker_id\": \"w1\", \"output\": {}}");
        assertThat(done.statusCode()).as(done.body()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> send(owner, "GET", "/v1/runs/" + WAITING_RUN, null).body()
                .contains("\"status\":\"SUCCEEDED\",\"started_at\""));
    }

    @Test
    void anotherOrganizationSeesNoneOfIt() throws Exception {
        String stranger = new TestOrganizations(app).key(new OrgId("stranger-" + UUID.randomUUID().toString().substring(0, 6)),
                Role.OWNER);

        assertThat(send(stranger, "GET", "/v1/runs/" + DONE_RUN, null).statusCode()).isEqualTo(404);
        assertThat(send(stranger, "GET", "/v1/deployments/legacy-done", null).statusCode()).isEqualTo(404);
        assertThat(send(stranger, "POST", "/v1/runs/" + DONE_RUN + "/rerun", null).statusCode()).isEqualTo(404);
        assertThat(json.readTree(send(stranger, "GET", "/v1/runs", null).body()).get("items")).isEmpty();
    }

    @Test
    void eventsStoredBeforeTenancyAreReadWithTheDefaultOrganizationAndAnActor() {
        var events = app.getBean(EventStorageEngine.class).readEvents(DONE_RUN).asStream().toList();

        assertThat(events).isNotEmpty().allSatisfy(event -> {
            assertThat(event.getMetaData()).containsEntry(MessageKeys.ORG_ID, "default")
                    .containsEntry(MessageKeys.ACTOR_ID, "before-tenancy");
        });
        assertThat(events.get(0).getPayload()).isInstanceOfSatisfying(RunStarted.class,
                started -> assertThat(started.organization()).isEqualTo(OrgId.DEFAULT));
    }

    private HttpResponse<String> send(String key, String method, String path, String body) throws Exception {
        String port = app.getBean(Environment.class).getProperty("local.server.port");
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + key)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
