package io.dagy.gateway.audit;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
import io.dagy.projection.audit.AuditChain;
import io.dagy.tables.DagyTable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Replays of the audit log and usage: identical after 50 runs with failures, retries, cancels and reruns; tampering shows. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class AuditReplayApiTest {

    private static final String FINE = """
            {"tasks": [{"id": "a", "backend": {"type": "noop"}},
                       {"id": "b", "backend": {"type": "noop"}, "depends_on": ["a"]}]}""";
    private static final String FAILING = """
            {"tasks": [{"id": "a", "backend": {"type": "noop"}},
                       {"id": "b", "backend": {"type": "local", "command": ["sh", "-c", "exit 3"]}, "depends_on": ["a"],
                        "retry": {"max_attempts": 2, "initial_interval": "PT0.1S"}}]}""";
    private static final String SLOW = """
            {"tasks": [{"id": "a", "backend": {"type": "local", "command": ["sleep", "30"]}}]}""";

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Autowired
    JsonMapper json;

    @Autowired
    DynamoDbClient dynamoDb;

    @Autowired
    DagyResources resources;

    private OrgId org;
    private String owner;

    @BeforeEach
    void anOrganization() {
        org = new OrgId("replay-" + UUID.randomUUID().toString().substring(0, 8));
        owner = new TestOrganizations(context).key(org, Role.OWNER);
    }

    @Test
    void aReplayAfterRunsWithFailuresRetriesCancelsAndRerunsIsIdenticalToTheLiveLog() throws Exception {
        send("PUT", "/v1/deployments/fine", FINE);
        send("PUT", "/v1/deployments/failing", FAILING);
        send("PUT", "/v1/deployments/slow", SLOW);
        ApiCalls.assertProblem(send("PUT", "/v1/deployments/bad", "{\"tasks\": []}"), 400, "validation_failed");
        List<String> fine = new ArrayList<>();
        List<String> failing = new ArrayList<>();
        List<String> slow = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            fine.add(start("fine"));
        }
        for (int i = 0; i < 5; i++) {
            failing.add(start("failing"));
            slow.add(start("slow"));
        }
        for (String run : slow) {
            assertThat(send("POST", "/v1/runs/" + run + "/cancel", null).statusCode()).isEqualTo(202);
        }
        awaitStatus(fine, "SUCCEEDED");
        awaitStatus(failing, "FAILED");
        awaitStatus(slow, "CANCELLED");
        for (String run : failing) {
            assertThat(send("POST", "/v1/runs/" + run + "/rerun", null).statusCode()).isEqualTo(202);
        }
        awaitStatus(failing, "FAILED");

        JsonNode job = replayToTheEnd();

        assertThat(job.get("identical").asBoolean()).as(job.toString()).isTrue();
        assertThat(job.get("events_read").asLong()).isGreaterThan(0).isLessThanOrEqualTo(job.get("events_total").asLong());
        // 3 publications, 1 refusal, 50 starts, 5 cancels, 5 reruns
        assertThat(job.get("audit").get("replayed_records").asLong()).isEqualTo(3 + 1 + 50 + 5 + 5);
        assertThat(job.get("audit").get("replayed_head").get("hash").asString())
                .isEqualTo(job.get("audit").get("live_head_at_same_place").get("hash").asString());
        JsonNode totals = job.get("usage").get("replayed_totals");
        assertThat(totals.get("runs_started").asLong()).isEqualTo(50);
        // each failing run: a, then b twice; its rerun: b twice more
        assertThat(totals.get("task_attempts:small:local").asLong()).isGreaterThanOrEqualTo(5 * 4);
        assertThat(totals.get("task_attempts:small:noop").asLong()).isEqualTo(40 * 2 + 5);
        assertThat(totals).isEqualTo(job.get("usage").get("live_totals"));
    }

    @Test
    void aReplayNamesTheLiveRecordThatWasChanged() throws Exception {
        for (String name : List.of("x", "y", "z")) {
            send("PUT", "/v1/deployments/" + name, FINE);
        }
        await().atMost(Duration.ofSeconds(30)).until(() ->
                json.readTree(send("GET", "/v1/audit", null).body()).get("items").size() == 3);
        dynamoDb.updateItem(b -> b.tableName(resources.table(DagyTable.AUDIT_LOGS)).key(AuditChain.recordKey(org.value(), 2))
                .updateExpression("SET resource_id = :forged")
                .expressionAttributeValues(Map.of(":forged", AttributeValue.fromS("forged"))));
        dynamoDb.updateItem(b -> b.tableName(resources.table(DagyTable.AUDIT_LOGS)).key(AuditChain.recordKey(org.value(), 2))
                .updateExpression("SET #h = :forged").expressionAttributeNames(Map.of("#h", "hash"))
                .expressionAttributeValues(Map.of(":forged", AttributeValue.fromS("0".repeat(64)))));

        JsonNode job = replayToTheEnd();

        assertThat(job.get("identical").asBoolean()).isFalse();
        assertThat(job.get("audit").get("first_difference").asString()).startsWith("record 2 ");
        assertThat(job.get("kept_tables")).hasSize(3);
    }

    @Test
    void onlyAnOwnerReplaysAndAnUnknownJobIsNotFound() throws Exception {
        String admin = new TestOrganizations(context).key(org, Role.ADMIN);
        ApiCalls.assertProblem(ApiCalls.send(port, admin, "POST", "/v1/audit/replay", null), 403, "forbidden");
        ApiCalls.assertProblem(send("GET", "/v1/audit/replay/rpl-0123456789abcdef", null), 404, "replay_not_found");
    }

    private JsonNode replayToTheEnd() throws Exception {
        HttpResponse<String> started = send("POST", "/v1/audit/replay", null);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        String jobId = json.readTree(started.body()).get("job_id").asString();
        List<JsonNode> done = new ArrayList<>();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode job = json.readTree(send("GET", "/v1/audit/replay/" + jobId, null).body());
            assertThat(job.get("status").asString()).as(job.toString()).isIn("completed", "failed");
            done.add(job);
        });
        JsonNode job = done.get(done.size() - 1);
        assertThat(job.get("status").asString()).as(job.toString()).isEqualTo("completed");
        return job;
    }

    private void awaitStatus(List<String> runs, String status) {
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            for (String run : runs) {
                assertThat(json.readTree(send("GET", "/v1/runs/" + run, null).body()).get("status").asString())
                        .as(run).isEqualTo(status);
            }
        });
    }

    private String start(String deployment) throws Exception {
        return json.readTree(send("POST", "/v1/deployments/" + deployment + "/runs", "{}").body()).get("run_id").asString();
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        return ApiCalls.send(port, owner, method, path, body);
    }
}
