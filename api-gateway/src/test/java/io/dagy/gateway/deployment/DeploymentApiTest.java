package io.dagy.gateway.deployment;

import io.dagy.gateway.security.LocalOwnerKey;

import io.dagy.gateway.DagyApplication;
import io.dagy.query.paging.PageCursor;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
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

@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class DeploymentApiTest {

    private static final String DIAMOND = """
            {"description": "diamond",
             "tasks": [
               {"id": "extract", "backend": {"type": "local", "command": ["echo", "extract"]}},
               {"id": "left", "backend": {"type": "noop"}, "depends_on": ["extract"],
                "retry": {"max_attempts": 3, "initial_interval": "PT1S", "backoff_rate": 2.0, "max_delay": "PT30S",
                          "jitter": true, "retry_on": ["*"]},
                "timeouts": {"start_to_close": "PT5M"}},
               {"id": "right", "backend": {"type": "noop"}, "depends_on": ["extract"]},
               {"id": "load", "backend": {"type": "noop"}, "depends_on": ["left", "right"], "trigger_rule": "all_done"}
             ]}""";

    @Autowired
    LocalOwnerKey ownerKey;

    @LocalServerPort
    int port;

    @Autowired
    JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void publishingCreatesVersionsOnlyWhenTheDagChanges() throws Exception {
        String name = unique("etl");

        JsonNode first = json.readTree(put("/v1/deployments/" + name, DIAMOND).body());
        JsonNode again = json.readTree(put("/v1/deployments/" + name, DIAMOND).body());
        JsonNode changed = json.readTree(put("/v1/deployments/" + name,
                "{\"tasks\": [{\"id\": \"only\", \"backend\": {\"type\": \"noop\"}}]}").body());

        assertThat(first.get("version").asInt()).isEqualTo(1);
        assertThat(first.get("changed").asBoolean()).isTrue();
        assertThat(again.get("version").asInt()).isEqualTo(1);
        assertThat(again.get("changed").asBoolean()).isFalse();
        assertThat(changed.get("version").asInt()).isEqualTo(2);
    }

    @Test
    void aPublishedDeploymentCanBeReadBackInTheWireFormat() throws Exception {
        String name = unique("read");
        put("/v1/deployments/" + name, DIAMOND);

        JsonNode deployment = await().atMost(Duration.ofSeconds(10)).until(
                () -> get("/v1/deployments/" + name), response -> response.statusCode() == 200)
                .body().transform(json::readTree);

        assertThat(deployment.get("name").asString()).isEqualTo(name);
        assertThat(deployment.get("version").asInt()).isEqualTo(1);
        JsonNode left = deployment.get("tasks").get(1);
        assertThat(left.at("/backend/type").asString()).isEqualTo("noop");
        assertThat(left.get("depends_on").get(0).asString()).isEqualTo("extract");
        assertThat(left.at("/retry/max_attempts").asInt()).isEqualTo(3);
        assertThat(left.at("/retry/initial_interval").asString()).isEqualTo("PT1S");
        assertThat(left.at("/timeouts/start_to_close").asString()).isEqualTo("PT5M");
        assertThat(deployment.get("tasks").get(0).at("/backend/command/1").asString()).isEqualTo("extract");
        assertThat(deployment.get("tasks").get(3).get("trigger_rule").asString()).isEqualTo("all_done");
        assertThat(deployment.at("/settings/execution_mode").asString()).isEqualTo("small");
    }

    @Test
    void anInvalidDagIsOneProblemListingEveryError() throws Exception {
        String broken = """
                {"tasks": [
                  {"id": "a", "backend": {"type": "noop"}, "depends_on": ["c"]},
                  {"id": "a", "backend": {"type": "teleport"}},
                  {"id": "b", "backend": {"type": "noop"}, "depends_on": ["ghost"], "trigger_rule": "sometimes",
                   "retry": {"max_attempts": 0, "initial_interval": "5 seconds"}},
                  {"id": "c", "backend": {"type": "noop"}, "depends_on": ["a"]}
                ]}""";

        HttpResponse<String> response = put("/v1/deployments/" + unique("bad"), broken);
        JsonNode problem = json.readTree(response.body());

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(problem.get("code").asString()).isEqualTo("validation_failed");
        List<String> fields = new ArrayList<>();
        problem.get("errors").forEach(error -> fields.add(error.get("field").asString()));
        assertThat(fields).contains("tasks[1].id", "tasks[1].backend.type", "tasks[2].depends_on[0]",
                "tasks[2].trigger_rule", "tasks[2].retry.max_attempts", "tasks[2].retry.initial_interval");
    }

    @Test
    void aCycleIsNamedInTheProblem() throws Exception {
        String cyclic = """
                {"tasks": [
                  {"id": "a", "backend": {"type": "noop"}, "depends_on": ["c"]},
                  {"id": "b", "backend": {"type": "noop"}, "depends_on": ["a"]},
                  {"id": "c", "backend": {"type": "noop"}, "depends_on": ["b"]}
                ]}""";

        JsonNode problem = json.readTree(put("/v1/deployments/" + unique("cycle"), cyclic).body());

        assertThat(problem.at("/errors/0/message").asString()).contains("cycle").contains("a").contains("b").contains("c");
    }

    /** 5,000 tasks with random ids and params: about 800 KB after compression, twice what an event may hold. */
    @Test
    void aDagTooLargeToStoreIsA413AndStoresNothing() throws Exception {
        var random = new java.util.Random(7);
        StringBuilder tasks = new StringBuilder();
        for (int i = 0; i < 5_000; i++) {
            String id = "t" + new java.math.BigInteger(390, random).toString(16);
            String noise = new java.math.BigInteger(800, random).toString(16);
            tasks.append(i == 0 ? "" : ",").append("{\"id\":\"").append(id)
                    .append("\",\"backend\":{\"type\":\"noop\"},\"params\":{\"noise\":\"").append(noise).append("\"}}");
        }
        String name = unique("huge");

        HttpResponse<String> refused = put("/v1/deployments/" + name, "{\"tasks\":[" + tasks + "]}");

        assertThat(refused.statusCode()).isEqualTo(413);
        assertThat(json.readTree(refused.body()).get("code").asString()).isEqualTo("payload_too_large");
        assertThat(get("/v1/deployments/" + name).statusCode()).isEqualTo(404);
    }

    @Test
    void unknownDeploymentsAndBadNamesAreProblems() throws Exception {
        HttpResponse<String> missing = get("/v1/deployments/" + unique("missing"));
        HttpResponse<String> badName = put("/v1/deployments/Bad%20Name", DIAMOND);
        HttpResponse<String> missingSettings = put("/v1/deployments/" + unique("nope") + "/settings",
                "{\"execution_mode\": \"micro\"}");

        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json.readTree(missing.body()).get("code").asString()).isEqualTo("deployment_not_found");
        assertThat(badName.statusCode()).isEqualTo(400);
        assertThat(json.readTree(badName.body()).at("/errors/0/field").asString()).isEqualTo("name");
        assertThat(missingSettings.statusCode()).isEqualTo(404);
    }

    @Test
    void onlyTheSettingsSentChange() throws Exception {
        String name = unique("settings");
        put("/v1/deployments/" + name, DIAMOND);
        put("/v1/deployments/" + name + "/settings", "{\"dep_package_slugs\": [\"pandas-layer\"], \"tags\": {\"team\": \"data\"}}");

        HttpResponse<String> response = put("/v1/deployments/" + name + "/settings", "{\"execution_mode\": \"micro\"}");
        JsonNode settings = json.readTree(response.body());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(settings.get("execution_mode").asString()).isEqualTo("micro");
        assertThat(settings.at("/dep_package_slugs/0").asString()).isEqualTo("pandas-layer");
        assertThat(settings.at("/tags/team").asString()).isEqualTo("data");
        HttpResponse<String> invalid = put("/v1/deployments/" + name + "/settings", "{\"execution_mode\": \"huge\"}");
        assertThat(invalid.statusCode()).isEqualTo(400);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                json.readTree(get("/v1/deployments/" + name).body()).at("/settings/execution_mode").asString())
                .isEqualTo("micro"));
    }

    @Test
    void theListIsPagedByName() throws Exception {
        String prefix = unique("page");
        for (String suffix : List.of("a", "b", "c")) {
            put("/v1/deployments/" + prefix + "-" + suffix, DIAMOND);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> get("/v1/deployments/" + prefix + "-c").statusCode() == 200);

        List<String> names = new ArrayList<>();
        // cursors are opaque; start just before the prefix with the cursor a page ending at the prefix would carry
        String cursor = PageCursor.DEPLOYMENTS.encode(prefix);
        while (cursor != null && names.size() < 3) {
            JsonNode page = json.readTree(get("/v1/deployments?limit=2&cursor=" + cursor).body());
            page.get("items").forEach(item -> names.add(item.get("name").asString()));
            cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asString();
        }

        assertThat(names.subList(0, 3)).containsExactly(prefix + "-a", prefix + "-b", prefix + "-c");
    }

    private HttpResponse<String> put(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + ownerKey.key())
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .header("Authorization", "Bearer " + ownerKey.key()).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
