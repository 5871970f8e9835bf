package io.dagy.gateway.usage;

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

/** Usage through the API: runs, attempts by runtime and API calls of an organization, per period. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class UsageApiTest {

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Autowired
    JsonMapper json;

    @Test
    void runsAttemptsAndApiCallsOfTheOrganizationAreTotalledPerPeriod() throws Exception {
        OrgId org = new OrgId("metered-" + UUID.randomUUID().toString().substring(0, 8));
        TestOrganizations organizations = new TestOrganizations(context);
        String owner = organizations.key(org, Role.OWNER);
        String viewer = organizations.key(org, Role.VIEWER);
        ApiCalls.send(port, owner, "PUT", "/v1/deployments/two-tasks", """
                {"tasks": [{"id": "a", "backend": {"type": "noop"}},
                           {"id": "b", "backend": {"type": "noop"}, "depends_on": ["a"]}]}""");
        List<String> runs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            runs.add(json.readTree(ApiCalls.send(port, owner, "POST", "/v1/deployments/two-tasks/runs", "{}").body())
                    .get("run_id").asString());
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            for (String run : runs) {
                assertThat(json.readTree(ApiCalls.send(port, owner, "GET", "/v1/runs/" + run, null).body())
                        .get("status").asString()).isEqualTo("SUCCEEDED");
            }
        });

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            var response = ApiCalls.send(port, owner, "GET", "/v1/usage?granularity=hour", null);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode totals = json.readTree(response.body()).get("totals");
            assertThat(totals.get("runs_started").asLong()).isEqualTo(3);
            assertThat(totals.get("task_attempts").asLong()).isEqualTo(6);
            assertThat(totals.get("by_runtime").get(0).get("tier").asString()).isEqualTo("small");
            assertThat(totals.get("by_runtime").get(0).get("backend").asString()).isEqualTo("noop");
            assertThat(totals.get("api_calls").asLong()).isGreaterThanOrEqualTo(4);   // the publish and three starts
        });
        JsonNode monthly = json.readTree(ApiCalls.send(port, owner, "GET", "/v1/usage?granularity=month", null).body());
        assertThat(monthly.get("totals").get("runs_started").asLong()).isEqualTo(3);
        ApiCalls.assertProblem(ApiCalls.send(port, viewer, "GET", "/v1/usage", null), 403, "forbidden");
        ApiCalls.assertProblem(ApiCalls.send(port, owner, "GET", "/v1/usage?granularity=week", null), 400, "validation_failed");
    }
}
