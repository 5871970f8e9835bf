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

/** The audit log through the API: records of actions and refusals, paging, and a verification that finds tampering. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class AuditLogApiTest {

    private static final String DAG = """
            {"tasks": [{"id": "only", "backend": {"type": "noop"}}]}""";

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
    private String viewer;

    @BeforeEach
    void anOrganizationWithAnOwnerKeyAndAViewerKey() {
        org = new OrgId("audit-" + UUID.randomUUID().toString().substring(0, 8));
        TestOrganizations organizations = new TestOrganizations(context);
        owner = organizations.key(org, Role.OWNER);
        viewer = organizations.key(org, Role.VIEWER);
    }

    @Test
    void actionsOfAKeyAreRecordedWithTheirCallerAddressAndChangesAndNoSecret() throws Exception {
        assertThat(send(owner, "PUT", "/v1/deployments/hello", DAG).statusCode()).isEqualTo(200);
        String runId = json.readTree(send(owner, "POST", "/v1/deployments/hello/runs", "{\"params\": {\"token\": \"s3cr3t-param\"}}").body())
                .get("run_id").asString();
        HttpResponse<String> created = send(owner, "POST", "/v1/api-keys", "{\"name\": \"ci\", \"role\": \"developer\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String newKey = json.readTree(created.body()).get("key").asString();

        List<JsonNode> records = awaitRecords(3);

        JsonNode published = find(records, "deployment_published");
        assertThat(published.get("resource_type").asString()).isEqualTo("deployment");
        assertThat(published.get("resource_id").asString()).isEqualTo("hello");
        assertThat(published.get("changes").get("version").get("old").isNull()).isTrue();
        assertThat(published.get("changes").get("version").get("new").asString()).isEqualTo("1");
        assertThat(published.get("status").asString()).isEqualTo("success");
        assertThat(published.get("org_id").asString()).isEqualTo(org.value());
        assertThat(published.get("actor_kind").asString()).isEqualTo("api_key");
        assertThat(published.get("user_id").asString()).isNotBlank();
        assertThat(published.get("ip_address").asString()).isEqualTo("127.0.0.1");
        assertThat(published.get("user_agent").asString()).startsWith("Java-http-client");
        JsonNode started = find(records, "run_started");
        assertThat(started.get("resource_id").asString()).isEqualTo(runId);
        JsonNode keyCreated = find(records, "api_key_created");
        assertThat(keyCreated.get("changes").get("role").get("new").asString()).isEqualTo("developer");

        String everything = send(owner, "GET", "/v1/audit?limit=100", null).body();
        assertThat(everything).doesNotContain(newKey).doesNotContain(newKey.substring(0, 13))
                .doesNotContain("s3cr3t-param").doesNotContain(io.dagy.gateway.security.ApiKeys.hash(newKey));
    }

    @Test
    void aDeniedPermissionAndARejectedValidationAreRecordedAsFailuresWithTheirReason() throws Exception {
        ApiCalls.assertProblem(send(viewer, "PUT", "/v1/deployments/nope", DAG), 403, "forbidden");
        ApiCalls.assertProblem(send(owner, "PUT", "/v1/deployments/bad", "{\"tasks\": []}"), 400, "validation_failed");

        List<JsonNode> records = awaitRecords(2);

        JsonNode denied = records.stream().filter(r -> "nope".equals(r.get("resource_id").asString())).findFirst().orElseThrow();
        assertThat(denied.get("action").asString()).isEqualTo("deployment_published");
        assertThat(denied.get("status").asString()).isEqualTo("failure");
        assertThat(denied.get("reason").asString()).isEqualTo("forbidden (403)");
        JsonNode rejected = records.stream().filter(r -> "bad".equals(r.get("resource_id").asString())).findFirst().orElseThrow();
        assertThat(rejected.get("status").asString()).isEqualTo("failure");
        assertThat(rejected.get("reason").asString()).isEqualTo("validation_failed (400)");
    }

    @Test
    void pagesFollowTheChainAndFilterByActionAndResource() throws Exception {
        for (String name : List.of("one", "two", "three")) {
            assertThat(send(owner, "PUT", "/v1/deployments/" + name, DAG).statusCode()).isEqualTo(200);
        }
        awaitRecords(3);

        List<String> seen = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = json.readTree(send(owner, "GET", "/v1/audit?action=deployment_published&limit=1"
                    + (cursor == null ? "" : "&cursor=" + cursor), null).body());
            page.get("items").forEach(item -> seen.add(item.get("resource_id").asString()));
            cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asString();
        } while (cursor != null);

        assertThat(seen).containsExactly("one", "two", "three");
        JsonNode two = json.readTree(send(owner, "GET", "/v1/audit?resource=deployment/two", null).body()).get("items");
        assertThat(two).hasSize(1);
        ApiCalls.assertProblem(send(owner, "GET", "/v1/audit?from=yesterday", null), 400, "validation_failed");
        ApiCalls.assertProblem(send(viewer, "GET", "/v1/audit", null), 403, "forbidden");
    }

    @Test
    void verificationFindsTheOneRecordEditedInDynamoDb() throws Exception {
        for (String name : List.of("a", "b", "c", "d")) {
            assertThat(send(owner, "PUT", "/v1/deployments/" + name, DAG).statusCode()).isEqualTo(200);
        }
        awaitRecords(4);
        JsonNode clean = json.readTree(send(owner, "GET", "/v1/audit/verify", null).body());
        assertThat(clean.get("verified").asBoolean()).as(clean.toString()).isTrue();
        assertThat(clean.get("checked").asLong()).isEqualTo(4);

        dynamoDb.updateItem(b -> b.tableName(resources.table(DagyTable.AUDIT_LOGS)).key(AuditChain.recordKey(org.value(), 3))
                .updateExpression("SET resource_id = :forged")
                .expressionAttributeValues(Map.of(":forged", AttributeValue.fromS("forged"))));

        JsonNode tampered = json.readTree(send(owner, "GET", "/v1/audit/verify", null).body());
        assertThat(tampered.get("verified").asBoolean()).isFalse();
        assertThat(tampered.get("first_mismatch").get("seq").asLong()).isEqualTo(3);
        assertThat(tampered.get("first_mismatch").get("problem").asString()).contains("changed");
    }

    @Test
    void verificationFindsARecordDeletedFromTheMiddleOfTheChain() throws Exception {
        for (String name : List.of("a", "b", "c")) {
            assertThat(send(owner, "PUT", "/v1/deployments/" + name, DAG).statusCode()).isEqualTo(200);
        }
        awaitRecords(3);

        dynamoDb.deleteItem(b -> b.tableName(resources.table(DagyTable.AUDIT_LOGS)).key(AuditChain.recordKey(org.value(), 2)));

        JsonNode tampered = json.readTree(send(owner, "GET", "/v1/audit/verify", null).body());
        assertThat(tampered.get("verified").asBoolean()).isFalse();
        assertThat(tampered.get("first_mismatch").get("problem").asString()).isEqualTo("record 2 is missing");
    }

    private List<JsonNode> awaitRecords(int count) {
        List<List<JsonNode>> found = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<JsonNode> records = records(null);
            assertThat(records).hasSizeGreaterThanOrEqualTo(count);
            found.add(records);
        });
        return found.get(found.size() - 1);
    }

    private List<JsonNode> records(String query) throws Exception {
        HttpResponse<String> response = send(owner, "GET", "/v1/audit?limit=100" + (query == null ? "" : "&" + query), null);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        List<JsonNode> records = new ArrayList<>();
        json.readTree(response.body()).get("items").forEach(records::add);
        return records;
    }

    private static JsonNode find(List<JsonNode> records, String action) {
        return records.stream().filter(r -> r.get("action").asString().equals(action)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + action + " in " + records));
    }

    private HttpResponse<String> send(String key, String method, String path, String body) throws Exception {
        return ApiCalls.send(port, key, method, path, body);
    }
}
