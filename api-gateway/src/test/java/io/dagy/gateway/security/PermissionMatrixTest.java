package io.dagy.gateway.security;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Permission;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.ApiRoutes.Route;
import io.dagy.gateway.support.TestOrganizations;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The permission matrix, enforced: every route of {@link ApiRoutes} with no credentials and with a key of every role,
 * each in an organization of its own (so a permitted delete harms no other case); the installation's routes also with
 * a key of every role in the default organization, whose owners alone operate it. A refusal is 401 or 403 as a
 * problem; a permitted request is never refused for its credentials (it may still be a 404 or a 400).
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class PermissionMatrixTest {

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Autowired
    JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();

    /** A body every route accepts as JSON (the routes that read one validate it after the access check). */
    private static final String BODY = "{}";

    @TestFactory
    Stream<DynamicTest> everyRouteWithEveryRoleAndWithoutCredentials() {
        TestOrganizations organizations = new TestOrganizations(context);
        List<DynamicTest> cases = new ArrayList<>();
        for (Route route : ApiRoutes.ROUTES) {
            String path = concrete(route.pattern());
            cases.add(DynamicTest.dynamicTest(route.method() + " " + route.pattern() + " without credentials", () -> {
                HttpResponse<String> response = send(route, path, null);
                if (route.access() instanceof Access.Public) {
                    // the route itself may refuse (a webhook without a valid signature), never the access check
                    assertThat(response.body()).doesNotContain("\"code\":\"unauthenticated\"")
                            .doesNotContain("\"code\":\"forbidden\"");
                } else {
                    assertRefused(response, 401, "unauthenticated");
                }
            }));
            if (route.access() instanceof Access.Public) {
                continue;
            }
            for (Role role : Role.values()) {
                // an organization of its own for each case; an operator's route also with a key of the default one
                List<String> where = route.access() instanceof Access.Operator ? List.of("own", "default") : List.of("own");
                for (String in : where) {
                    String as = role.code() + (in.equals("default") ? " of the default organization" : "");
                    if (route.method().name().equals("GET")) {
                        // HEAD is served by the GET handler: it must be refused alike (its status and length tell too much)
                        cases.add(DynamicTest.dynamicTest("HEAD " + route.pattern() + " as " + as, () -> {
                            OrgId org = in.equals("default") ? OrgId.DEFAULT : freshOrganization();
                            HttpResponse<String> response = head(path, organizations.key(org, role));
                            if (allowed(route, role, org)) {
                                assertThat(response.statusCode()).isNotIn(401, 403);
                            } else {
                                assertThat(response.statusCode()).isEqualTo(403);
                            }
                        }));
                    }
                    cases.add(DynamicTest.dynamicTest(route.method() + " " + route.pattern() + " as " + as, () -> {
                        OrgId org = in.equals("default") ? OrgId.DEFAULT : freshOrganization();
                        String key = organizations.key(org, role);
                        HttpResponse<String> response = send(route, path, key);
                        if (allowed(route, role, org)) {
                            assertThat(response.statusCode()).as(response.body()).isNotIn(401, 403);
                        } else {
                            assertRefused(response, 403, "forbidden");
                        }
                    }));
                }
            }
        }
        return cases.stream();
    }

    private static OrgId freshOrganization() {
        return new OrgId("m-" + UUID.randomUUID().toString().substring(0, 12));
    }

    /**
     * Whether a key of {@code role} in {@code org} may take the route: the role holds its permission, and for an
     * operator's route (installation-wide) the organization is the default one.
     */
    private static boolean allowed(Route route, Role role, OrgId org) {
        boolean permitted = ApiRoutes.permissionOf(route).map(role::allows).orElse(false);
        return route.access() instanceof Access.Operator ? permitted && OrgId.DEFAULT.equals(org) : permitted;
    }

    /** The matrix as docs/security.md prints it; this test keeps the two equal. */
    @Test
    void theMatrixInTheDocsIsTheOneEnforced() throws Exception {
        String docs = java.nio.file.Files.readString(java.nio.file.Path.of("../docs/security.md"));
        Map<Permission, List<String>> rows = new EnumMap<>(Permission.class);
        for (Permission permission : Permission.values()) {
            List<String> cells = new ArrayList<>();
            for (Role role : Role.values()) {
                cells.add(role.allows(permission) ? "yes" : "no");
            }
            rows.put(permission, cells);
            assertThat(docs).as(permission.name()).contains("| `" + permission.name().toLowerCase() + "` | "
                    + String.join(" | ", cells) + " |");
        }
    }

    @Test
    void everyEndpointTheApplicationMapsIsInTheRouteTable() {
        RequestMappingHandlerMapping mapping = context.getBean("requestMappingHandlerMapping", RequestMappingHandlerMapping.class);
        List<String> missing = new ArrayList<>();
        mapping.getHandlerMethods().forEach((info, method) -> {
            for (String pattern : info.getPatternValues()) {
                if (pattern.startsWith("/test/") || pattern.equals("/error")) {
                    continue; // endpoints of the test suite, and the container's error page
                }
                for (var verb : info.getMethodsCondition().getMethods()) {
                    boolean listed = ApiRoutes.ROUTES.stream().anyMatch(route -> route.pattern().equals(pattern)
                            && route.method().name().equals(verb.name()));
                    if (!listed) {
                        missing.add(verb + " " + pattern);
                    }
                }
            }
        });
        assertThat(missing).as("endpoints without a decision in ApiRoutes").isEmpty();
    }

    private void assertRefused(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(json.readTree(response.body()).get("code").asString()).isEqualTo(code);
    }

    private static String concrete(String pattern) {
        return pattern.replace("{name}", "matrix-deployment").replace("{id}", "r-0123456789abcdef")
                .replace("{runId}", "r-0123456789abcdef").replace("{taskId}", "t1").replace("{attempt}", "1")
                .replace("{userId}", "user_matrix").replace("{keyId}", "key_0123456789abcdef")
                .replace("{processor}", "run-orchestration").replace("{sequence}", "ci1tYXRyaXg")
                .replace("{jobId}", "rpl-0123456789abcdef")
                .replace("{scheduleId}", "s-0123456789abcdef0123");
    }

    private HttpResponse<String> head(String path, String key) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Authorization", "Bearer " + key).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> send(Route route, String path, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json")
                .method(route.method().name(), route.method().name().equals("GET") || route.method().name().equals("DELETE")
                        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(BODY));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
