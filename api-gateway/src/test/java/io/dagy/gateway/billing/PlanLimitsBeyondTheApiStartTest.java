package io.dagy.gateway.billing;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runs start in two more places than {@code POST /v1/deployments/{name}/runs}: a schedule's fire and a rerun. The
 * plan's limits hold there too (here: one run at a time).
 */
class PlanLimitsBeyondTheApiStartTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static ConfigurableApplicationContext node;
    private static int port;

    @BeforeAll
    static void start() {
        node = new SpringApplicationBuilder(DagyApplication.class).profiles("local", "test").run(
                "--dagy.environment=limits-" + UUID.randomUUID().toString().substring(0, 8),
                "--dagy.billing.stripe-secret-key=sk_test_limits", "--dagy.billing.stripe-api-base=http://127.0.0.1:9",
                "--dagy.billing.report-interval=0s", "--dagy.billing.plans.free.concurrent-runs=1");
        port = Integer.parseInt(node.getBean(Environment.class).getProperty("local.server.port"));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void aScheduledRunBeyondThePlansConcurrencyIsNotStartedAndTheScheduleDoesNotWaitForIt() throws Exception {
        String key = ownerOfNewOrganization();
        deployWaiting(key);
        String running = startRun(key);

        String schedule = JSON.readTree(ApiCalls.send(port, key, "POST", "/v1/deployments/waits/schedules",
                "{\"interval\": \"PT1H\", \"overlap\": \"allow_all\"}").body()).get("schedule_id").asString();
        JsonNode triggered = JSON.readTree(ApiCalls.send(port, key, "POST",
                "/v1/deployments/waits/schedules/" + schedule + "/trigger", null).body());
        String refused = triggered.get("run_id").asString();

        // the refusal is reported to the schedule as a run that ended: it keeps no running run
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(JSON.readTree(ApiCalls.send(port, key,
                "GET", "/v1/deployments/waits/schedules/" + schedule, null).body()).get("running_runs")).isEmpty());
        ApiCalls.assertProblem(ApiCalls.send(port, key, "GET", "/v1/runs/" + refused, null), 404, "run_not_found");
        assertThat(status(key, running)).isEqualTo("RUNNING");
    }

    @Test
    void aRerunBeyondThePlansConcurrencyIsRefusedWith429() throws Exception {
        String key = ownerOfNewOrganization();
        deployWaiting(key);
        String first = startRun(key);
        assertThat(ApiCalls.send(port, key, "POST", "/v1/runs/" + first + "/cancel", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> status(key, first), "CANCELLED"::equals);
        String second = startRun(key);   // holds the one slot

        ApiCalls.assertProblem(ApiCalls.send(port, key, "POST", "/v1/runs/" + first + "/rerun", null), 429,
                "concurrency_limit_reached");
        assertThat(status(key, first)).isEqualTo("CANCELLED");

        // once the second has ended, the rerun goes through
        assertThat(ApiCalls.send(port, key, "POST", "/v1/runs/" + second + "/cancel", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> status(key, second), "CANCELLED"::equals);
        assertThat(ApiCalls.send(port, key, "POST", "/v1/runs/" + first + "/rerun", null).statusCode()).isEqualTo(202);
    }

    private static String ownerOfNewOrganization() throws Exception {
        return new TestOrganizations(node).key(new OrgId("limits-" + UUID.randomUUID().toString().substring(0, 8)),
                Role.OWNER);
    }

    private static void deployWaiting(String key) throws Exception {
        // a worker queue nobody polls: the run stays RUNNING until cancelled
        assertThat(ApiCalls.send(port, key, "PUT", "/v1/deployments/waits", "{\"tasks\": [{\"id\": \"a\", "
                + "\"backend\": {\"type\": \"worker\", \"queue\": \"nobody-" + UUID.randomUUID() + "\"}}]}")
                .statusCode()).isLessThan(300);
    }

    private static String startRun(String key) throws Exception {
        var started = ApiCalls.send(port, key, "POST", "/v1/deployments/waits/runs", "{}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        return JSON.readTree(started.body()).get("run_id").asString();
    }

    private static String status(String key, String runId) throws Exception {
        return JSON.readTree(ApiCalls.send(port, key, "GET", "/v1/runs/" + runId, null).body()).get("status").asString();
    }
}
