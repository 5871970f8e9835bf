package io.dagy.gateway.audit;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A write the rate limit refuses never reaches authentication; it is audited all the same, once a minute per key. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"dagy.rate-limit.enabled=true", "dagy.rate-limit.per-minute=1", "dagy.rate-limit.burst=2"})
@ActiveProfiles({"local", "test"})
class RateLimitedRefusalAuditTest {

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Autowired
    JsonMapper json;

    @Test
    void aRateLimitedWriteIsRecordedAsAFailureOfItsKey() throws Exception {
        OrgId org = new OrgId("limited-" + UUID.randomUUID().toString().substring(0, 8));
        TestOrganizations organizations = new TestOrganizations(context);
        String admin = organizations.key(org, Role.ADMIN);
        String owner = organizations.key(org, Role.OWNER);
        String settings = "{\"execution_mode\": \"nano\"}";
        ApiCalls.send(port, admin, "GET", "/v1/organization", null);
        ApiCalls.send(port, admin, "GET", "/v1/organization", null);

        ApiCalls.assertProblem(ApiCalls.send(port, admin, "PUT", "/v1/deployments/limited/settings", settings), 429,
                "rate_limited");
        ApiCalls.assertProblem(ApiCalls.send(port, admin, "PUT", "/v1/deployments/limited/settings", settings), 429,
                "rate_limited");

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            var response = ApiCalls.send(port, owner, "GET", "/v1/audit", null);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            List<JsonNode> records = new ArrayList<>();
            json.readTree(response.body()).get("items").forEach(records::add);
            assertThat(records).singleElement().satisfies(record -> {
                assertThat(record.get("action").asString()).isEqualTo("deployment_settings_changed");
                assertThat(record.get("resource_id").asString()).isEqualTo("limited");
                assertThat(record.get("actor_kind").asString()).isEqualTo("api_key");
                assertThat(record.get("status").asString()).isEqualTo("failure");
                assertThat(record.get("reason").asString()).isEqualTo("rate_limited (429)");
            });
        });
    }
}
