package io.dagy.gateway.billing;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two application contexts on the same tables, as two nodes behind a load balancer: the free plan's limits (here one
 * run at a time and two runs a month) hold for the organization as a whole, not per node.
 */
class PlanLimitsAcrossNodesTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void concurrentAndMonthlyLimitsHoldAcrossTwoNodes() throws Exception {
        String environment = "plans-" + UUID.randomUUID().toString().substring(0, 8);
        try (ConfigurableApplicationContext a = start(environment); ConfigurableApplicationContext b = start(environment)) {
            OrgId org = new OrgId("limited-" + UUID.randomUUID().toString().substring(0, 8));
            String key = new TestOrganizations(a).key(org, Role.OWNER);
            int portA = port(a);
            int portB = port(b);
            assertThat(ApiCalls.send(portA, key, "PUT", "/v1/deployments/waits", "{\"tasks\": [{\"id\": \"a\", "
                    + "\"backend\": {\"type\": \"worker\", \"queue\": \"nobody-" + org + "\"}}]}").statusCode()).isLessThan(300);

            // six starts at once, alternating nodes: exactly one gets the plan's one slot
            ExecutorService clients = Executors.newFixedThreadPool(6);
            List<Future<HttpResponse<String>>> starts = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                int port = i % 2 == 0 ? portA : portB;
                starts.add(clients.submit(() -> ApiCalls.send(port, key, "POST", "/v1/deployments/waits/runs", "{}")));
            }
            List<HttpResponse<String>> answers = new ArrayList<>();
            for (var start : starts) {
                answers.add(start.get());
            }
            clients.shutdown();
            List<HttpResponse<String>> accepted = answers.stream().filter(r -> r.statusCode() == 202).toList();
            assertThat(accepted).as(answers.stream().map(HttpResponse::body).toList().toString()).hasSize(1);
            for (var refused : answers.stream().filter(r -> r.statusCode() != 202).toList()) {
                ApiCalls.assertProblem(refused, 429, "concurrency_limit_reached");
                JsonNode problem = JSON.readTree(refused.body());
                assertThat(problem.get("limit").asString()).isEqualTo("concurrent_runs");
                assertThat(problem.get("limit_value").asLong()).isEqualTo(1);
                assertThat(problem.get("plan").asString()).isEqualTo("free");
            }

            // the run ends: its slot is free again, on either node
            String first = JSON.readTree(accepted.get(0).body()).get("run_id").asString();
            assertThat(ApiCalls.send(portB, key, "POST", "/v1/runs/" + first + "/cancel", null).statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(
                    ApiCalls.send(portA, key, "GET", "/v1/runs/" + first, null).body()).get("status").asString(),
                    "CANCELLED"::equals);
            assertThat(ApiCalls.send(portB, key, "POST", "/v1/deployments/waits/runs", "{}").statusCode()).isEqualTo(202);

            // two runs this month: the third is refused with 402 on both nodes, whatever their slots
            await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(
                    ApiCalls.send(portA, key, "GET", "/v1/billing", null).body()).get("limits").get(0).get("used").asLong(),
                    used -> used == 2);
            for (int port : new int[]{portA, portB}) {
                var refused = ApiCalls.send(port, key, "POST", "/v1/deployments/waits/runs", "{}");
                ApiCalls.assertProblem(refused, 402, "plan_limit_reached");
                JsonNode problem = JSON.readTree(refused.body());
                assertThat(problem.get("limit").asString()).isEqualTo("runs_per_month");
                assertThat(problem.get("limit_value").asLong()).isEqualTo(2);
                assertThat(problem.get("used").asLong()).isEqualTo(2);
            }

            // refusals are audited like every refused write (decision 47)
            await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(ApiCalls.send(portA, key, "GET",
                            "/v1/audit?action=run_started&limit=100", null).body()).get("items").valueStream()
                    .map(item -> item.hasNonNull("reason") ? item.get("reason").asString() : "")
                    .toList(), reasons -> reasons.contains("concurrency_limit_reached (429)")
                    && reasons.contains("plan_limit_reached (402)"));
        }
    }

    private static ConfigurableApplicationContext start(String environment) {
        return new SpringApplicationBuilder(DagyApplication.class).profiles("local", "test").run(
                "--dagy.environment=" + environment, "--dagy.billing.stripe-secret-key=sk_test_limits",
                "--dagy.billing.stripe-api-base=http://127.0.0.1:9", "--dagy.billing.report-interval=0s",
                "--dagy.billing.plans.free.concurrent-runs=1", "--dagy.billing.plans.free.runs-per-month=2");
    }

    private static int port(ConfigurableApplicationContext node) {
        return Integer.parseInt(node.getBean(Environment.class).getProperty("local.server.port"));
    }
}
