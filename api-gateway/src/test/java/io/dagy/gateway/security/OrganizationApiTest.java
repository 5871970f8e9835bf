package io.dagy.gateway.security;

import io.dagy.contracts.identity.ApiKeyId;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.OrganizationEvents.ApiKeyCreated;
import io.dagy.contracts.identity.OrganizationEvents.ApiKeyRevoked;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
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
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Members and keys: nobody acts on a member or a key above their own role, and the last owner stays. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class OrganizationApiTest {

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Autowired
    JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();
    private OrgId org;
    private String owner;
    private String admin;

    @BeforeEach
    void anOrganizationWithAnOwnerAndAnAdmin() {
        org = new OrgId("members-" + UUID.randomUUID().toString().substring(0, 8));
        TestOrganizations organizations = new TestOrganizations(context);
        organizations.member(org, "user_owner", Role.OWNER);
        owner = organizations.key(org, Role.OWNER);
        admin = organizations.key(org, Role.ADMIN);
    }

    @Test
    void anAdminAddsADeveloperAndTheMemberIsListed() throws Exception {
        var added = send(admin, "PUT", "/v1/organization/members/user_dev", "{\"role\": \"developer\"}");

        assertThat(added.statusCode()).as(added.body()).isEqualTo(200);
        assertThat(send(admin, "GET", "/v1/organization/members", null).body())
                .contains("\"user_id\":\"user_dev\",\"role\":\"developer\"");
    }

    @Test
    void anAdminCannotDemoteAnOwner() throws Exception {
        assertProblem(send(admin, "PUT", "/v1/organization/members/user_owner", "{\"role\": \"viewer\"}"), 403, "forbidden");
        assertThat(send(admin, "GET", "/v1/organization/members", null).body())
                .contains("\"user_id\":\"user_owner\",\"role\":\"owner\"");
    }

    @Test
    void anAdminCannotGrantOwner() throws Exception {
        assertProblem(send(admin, "PUT", "/v1/organization/members/user_new", "{\"role\": \"owner\"}"), 403, "forbidden");
    }

    @Test
    void anAdminCannotRevokeAnOwnersKey() throws Exception {
        String ownerKeyId = json.readTree(send(owner, "GET", "/v1/api-keys", null).body()).get("items").valueStream()
                .filter(key -> key.get("role").asString().equals("owner")).findFirst().orElseThrow().get("id").asString();

        assertProblem(send(admin, "DELETE", "/v1/api-keys/" + ownerKeyId, null), 403, "forbidden");
        assertThat(send(owner, "GET", "/v1/organization", null).statusCode()).isEqualTo(200);
    }

    @Test
    void theLastOwnerCannotBeRemoved() throws Exception {
        assertProblem(send(owner, "DELETE", "/v1/organization/members/user_owner", null), 409, "last_owner");
    }

    @Test
    void workerIsNotARoleForMembers() throws Exception {
        var refused = send(owner, "PUT", "/v1/organization/members/user_w", "{\"role\": \"worker\"}");
        assertProblem(refused, 400, "validation_failed");
    }

    @Test
    void deletingTheOrganizationStopsEveryKeyAtOnce() throws Exception {
        assertThat(send(owner, "DELETE", "/v1/organization", null).statusCode()).isEqualTo(204);

        assertProblem(send(owner, "GET", "/v1/organization", null), 401, "unauthenticated");
        assertProblem(send(admin, "GET", "/v1/deployments", null), 401, "unauthenticated");
    }

    @Test
    void keyEventsPrintNoHash() {
        ApiKeyId id = new ApiKeyId("key_0123456789abcdef");
        assertThat(new ApiKeyCreated(org, id, "ci", Role.VIEWER, "dagy_ABCDEFGH", "secret-hash", null).toString())
                .doesNotContain("secret-hash");
        assertThat(new ApiKeyRevoked(org, id, "secret-hash").toString()).doesNotContain("secret-hash");
    }

    private HttpResponse<String> send(String key, String method, String path, String body) throws Exception {
        return ApiCalls.send(port, key, method, path, body);
    }

    private void assertProblem(HttpResponse<String> response, int status, String code) {
        ApiCalls.assertProblem(response, status, code);
    }
}
