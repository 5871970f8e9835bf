package io.dagy.gateway.security;

import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Two organizations on one installation: each sees only its own deployments and runs; the other's ids are 404. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class TenancyIsolationTest {

    private static final String DAG = "{\"tasks\": [{\"id\": \"only\", \"backend\": {\"type\": \"noop\"}}]}";

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Autowired
    EventStorageEngine events;

    @Autowired
    JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();
    private OrgId acme;
    private String alice;
    private String bob;

    @BeforeEach
    void twoOrganizations() {
        acme = new OrgId("acme-" + UUID.randomUUID().toString().substring(0, 8));
        alice = new TestOrganizations(context).key(acme, Role.DEVELOPER);
        bob = new TestOrganizations(context).key(new OrgId("globex-" + UUID.randomUUID().toString().substring(0, 8)),
                Role.DEVELOPER);
    }

    @Test
    void theSameDeploymentNameIsTwoDeploymentsInTwoOrganizations() throws Exception {
        assertThat(send(alice, "PUT", "/v1/deployments/etl", DAG).statusCode()).isEqualTo(200);
        assertThat(send(bob, "PUT", "/v1/deployments/etl", DAG.replace("only", "other")).statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(10)).until(() -> send(alice, "GET", "/v1/deployments/etl", null).statusCode() == 200
                && send(bob, "GET", "/v1/deployments/etl", null).statusCode() == 200);
        assertThat(send(alice, "GET", "/v1/deployments/etl", null).body()).contains("\"id\":\"only\"");
        assertThat(send(bob, "GET", "/v1/deployments/etl", null).body()).contains("\"id\":\"other\"");
        assertThat(json.readTree(send(alice, "GET", "/v1/deployments", null).body()).get("items")).hasSize(1);
    }

    @Test
    void anotherOrganizationsRunIsNotFoundAndCannotBeTouched() throws Exception {
        send(alice, "PUT", "/v1/deployments/private", DAG);
        String runId = json.readTree(send(alice, "POST", "/v1/deployments/private/runs", "{}").body()).get("run_id").asString();
        await().atMost(Duration.ofSeconds(60)).until(() -> send(alice, "GET", "/v1/runs/" + runId, null).body()
                .contains("\"status\":\"SUCCEEDED\",\"started_at\""));
        long eventsBefore = events.readEvents(runId).asStream().count();

        assertProblem(send(bob, "GET", "/v1/runs/" + runId, null), 404, "run_not_found");
        assertProblem(send(bob, "POST", "/v1/runs/" + runId + "/cancel", null), 404, "run_not_found");
        assertProblem(send(bob, "POST", "/v1/runs/" + runId + "/rerun", null), 404, "run_not_found");
        assertProblem(send(bob, "GET", "/v1/deployments/private", null), 404, "deployment_not_found");
        assertProblem(send(bob, "POST", "/v1/deployments/private/runs", "{}"), 404, "deployment_not_found");
        assertThat(json.readTree(send(bob, "GET", "/v1/runs", null).body()).get("items")).isEmpty();
        assertThat(events.readEvents(runId).asStream().count()).as("bob's requests changed nothing").isEqualTo(eventsBefore);
    }

    @Test
    void aDeploymentNamedLikeARunIdIsANewDeploymentNotTheRun() throws Exception {
        String owner = context.getBean(LocalOwnerKey.class).key();
        send(alice, "PUT", "/v1/deployments/victim", DAG);
        String runId = json.readTree(send(alice, "POST", "/v1/deployments/victim/runs", "{}").body()).get("run_id").asString();
        long runEvents = events.readEvents(runId).asStream().count();

        var published = send(owner, "PUT", "/v1/deployments/" + runId, DAG);

        assertThat(published.statusCode()).as(published.body()).isEqualTo(200);
        assertThat(json.readTree(published.body()).get("version").asInt()).isEqualTo(1);
        assertThat(events.readEvents(runId).asStream().count()).isGreaterThanOrEqualTo(runEvents);
        assertThat(events.readEvents(runId).asStream().map(e -> e.getPayloadType().getSimpleName()))
                .doesNotContain("DeploymentPublished");
    }

    @Test
    void everyEventOfARunNamesItsOrganizationAndAnActor() throws Exception {
        send(alice, "PUT", "/v1/deployments/traced", DAG);
        String runId = json.readTree(send(alice, "POST", "/v1/deployments/traced/runs", "{}").body()).get("run_id").asString();
        await().atMost(Duration.ofSeconds(60)).until(() -> send(alice, "GET", "/v1/runs/" + runId, null).body()
                .contains("\"status\":\"SUCCEEDED\",\"started_at\""));

        List<DomainEventMessage<?>> runEvents = events.readEvents(runId).asStream()
                .<DomainEventMessage<?>>map(event -> event).toList();
        List<DomainEventMessage<?>> taskEvents = events.readEvents(runId + "/only").asStream()
                .<DomainEventMessage<?>>map(event -> event).toList();
        assertThat(runEvents).isNotEmpty();
        assertThat(taskEvents).isNotEmpty();
        List<DomainEventMessage<?>> all = new ArrayList<>(runEvents);
        all.addAll(taskEvents);
        for (var event : all) {
            assertThat(event.getMetaData()).as(event.getPayloadType().getSimpleName())
                    .containsEntry(MessageKeys.ORG_ID, acme.value())
                    .containsKeys(MessageKeys.ACTOR_KIND, MessageKeys.ACTOR_ID);
        }
        assertThat(runEvents.get(0).getMetaData()).containsEntry(MessageKeys.ACTOR_KIND, "api_key");
        assertThat(taskEvents.get(taskEvents.size() - 1).getMetaData()).containsEntry(MessageKeys.ACTOR_KIND, "system");
    }

    private HttpResponse<String> send(String key, String method, String path, String body) throws Exception {
        return ApiCalls.send(port, key, method, path, body);
    }

    private void assertProblem(HttpResponse<String> response, int status, String code) {
        ApiCalls.assertProblem(response, status, code);
    }
}
