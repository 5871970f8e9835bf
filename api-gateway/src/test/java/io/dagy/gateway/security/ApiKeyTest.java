package io.dagy.gateway.security;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.settings.DagyProperties;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** API keys: shown once, stored as a hash, listed without secrets, refused at once when revoked or expired. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class ApiKeyTest {

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Autowired
    LocalOwnerKey ownerKey;

    @Autowired
    JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aCreatedKeyIsShownOnceWorksAndIsListedWithoutItsSecret() throws Exception {
        var created = send(port, ownerKey.key(), "POST", "/v1/api-keys", "{\"name\": \"ci\", \"role\": \"developer\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode body = json.readTree(created.body());
        String key = body.get("key").asString();
        assertThat(ApiKeys.looksLikeKey(key)).isTrue();

        assertThat(send(port, key, "GET", "/v1/deployments", null).statusCode()).isEqualTo(200);

        var listed = send(port, ownerKey.key(), "GET", "/v1/api-keys", null);
        assertThat(listed.body()).doesNotContain(key).doesNotContain(ApiKeys.hash(key)).contains(body.get("id").asString())
                .contains(body.get("prefix").asString());
        await().atMost(Duration.ofSeconds(10)).until(() -> json.readTree(send(port, ownerKey.key(), "GET", "/v1/api-keys", null)
                .body()).get("items").findValues("last_used_at").stream().anyMatch(value -> !value.isNull()));
    }

    @Test
    void aRevokedKeyIsRefusedAtOnceAlsoByAnotherNodeOnTheSameTables() throws Exception {
        var created = json.readTree(send(port, ownerKey.key(), "POST", "/v1/api-keys",
                "{\"name\": \"short-lived\", \"role\": \"viewer\"}").body());
        String key = created.get("key").asString();
        String environment = context.getBean(DagyProperties.class).environment();
        try (ConfigurableApplicationContext second = new SpringApplicationBuilder(DagyApplication.class)
                .profiles("local", "test").run("--dagy.environment=" + environment)) {
            int secondPort = Integer.parseInt(second.getBean(Environment.class).getProperty("local.server.port"));
            assertThat(send(secondPort, key, "GET", "/v1/deployments", null).statusCode()).isEqualTo(200);

            var revoked = send(port, ownerKey.key(), "DELETE", "/v1/api-keys/" + created.get("id").asString(), null);
            assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(204);

            assertProblem(send(port, key, "GET", "/v1/deployments", null), 401, "unauthenticated");
            assertProblem(send(secondPort, key, "GET", "/v1/deployments", null), 401, "unauthenticated");
        }
    }

    @Test
    void anExpiredKeyIsRefused() throws Exception {
        OrgId org = new OrgId("expiring-" + UUID.randomUUID().toString().substring(0, 8));
        String key = new TestOrganizations(context).key(org, Role.VIEWER, Instant.now().plusSeconds(2));
        assertThat(send(port, key, "GET", "/v1/deployments", null).statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> send(port, key, "GET", "/v1/deployments", null).statusCode() == 401);
        assertProblem(send(port, key, "GET", "/v1/deployments", null), 401, "unauthenticated");
    }

    @Test
    void malformedAndUnknownKeysAreRefused() throws Exception {
        assertProblem(send(port, "dagy_notakey", "GET", "/v1/deployments", null), 401, "unauthenticated");
        assertProblem(send(port, ApiKeys.generate().key(), "GET", "/v1/deployments", null), 401, "unauthenticated");
        assertProblem(send(port, "", "GET", "/v1/deployments", null), 401, "unauthenticated");
    }

    @Test
    void nobodyCreatesAKeyAboveTheirOwnRole() throws Exception {
        String admin = new TestOrganizations(context).key(new OrgId("admins-" + UUID.randomUUID().toString().substring(0, 8)),
                Role.ADMIN);

        assertProblem(send(port, admin, "POST", "/v1/api-keys", "{\"name\": \"escalate\", \"role\": \"owner\"}"), 403,
                "forbidden");
        assertThat(send(port, admin, "GET", "/v1/api-keys", null).body()).doesNotContain("escalate");
    }

    @Test
    void aWorkerKeyMayOnlyPollAndReport() throws Exception {
        String worker = new TestOrganizations(context).key(OrgId.DEFAULT, Role.WORKER);

        assertProblem(send(port, worker, "GET", "/v1/runs", null), 403, "forbidden");
        assertThat(send(port, worker, "POST", "/v1/workers/poll",
                "{\"queue\": \"nothing-here\", \"worker_id\": \"w\", \"wait_seconds\": 0}").statusCode()).isEqualTo(204);
    }

    @Test
    void aKeyOfAnotherOrganizationCannotBeRevoked() throws Exception {
        OrgId other = new OrgId("victim-" + UUID.randomUUID().toString().substring(0, 8));
        String victim = new TestOrganizations(context).key(other, Role.OWNER);
        String victimKeyId = json.readTree(send(port, victim, "GET", "/v1/api-keys", null).body())
                .get("items").get(0).get("id").asString();

        assertProblem(send(port, ownerKey.key(), "DELETE", "/v1/api-keys/" + victimKeyId, null), 404, "api_key_not_found");
        assertThat(send(port, victim, "GET", "/v1/deployments", null).statusCode()).isEqualTo(200);
    }

    private HttpResponse<String> send(int port, String key, String method, String path, String body) throws Exception {
        return ApiCalls.send(port, key, method, path, body);
    }

    private void assertProblem(HttpResponse<String> response, int status, String code) {
        ApiCalls.assertProblem(response, status, code);
    }
}
