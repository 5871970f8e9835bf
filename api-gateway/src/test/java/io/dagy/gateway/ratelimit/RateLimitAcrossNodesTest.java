package io.dagy.gateway.ratelimit;

import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two application contexts on the same tables, as two nodes behind one load balancer: one API key sending to both
 * gets the burst once in total, not once per node.
 */
class RateLimitAcrossNodesTest {

    private static final int BURST = 10;
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void twoNodesTogetherAllowOneBurstPerKey() throws Exception {
        String environment = "limits-" + UUID.randomUUID().toString().substring(0, 8);
        try (ConfigurableApplicationContext a = start(environment); ConfigurableApplicationContext b = start(environment)) {
            String key = a.getBean(LocalOwnerKey.class).key();
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 2 * BURST; i++) {
                statuses.add(get(i % 2 == 0 ? a : b, key).statusCode());
            }

            assertThat(statuses.subList(0, BURST)).containsOnly(200);
            assertThat(statuses.subList(BURST, 2 * BURST)).as("node b would allow its own burst if buckets were per node")
                    .containsOnly(429);
        }
    }

    private static ConfigurableApplicationContext start(String environment) {
        // one token a minute: the budget cannot refill while the test runs
        return new SpringApplicationBuilder(DagyApplication.class).profiles("local", "test").run(
                "--dagy.environment=" + environment, "--dagy.rate-limit.enabled=true",
                "--dagy.rate-limit.burst=" + BURST, "--dagy.rate-limit.per-minute=1");
    }

    private HttpResponse<String> get(ConfigurableApplicationContext node, String key) throws Exception {
        String port = node.getBean(Environment.class).getProperty("local.server.port");
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/deployments"))
                .header("Authorization", "Bearer " + key).build(), HttpResponse.BodyHandlers.ofString());
    }
}
