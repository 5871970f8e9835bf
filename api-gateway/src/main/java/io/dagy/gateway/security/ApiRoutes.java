package io.dagy.gateway.security;

import io.dagy.contracts.identity.Permission;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

import java.util.List;
import java.util.Optional;

import static io.dagy.contracts.identity.Permission.CHANGE_SETTINGS;
import static io.dagy.contracts.identity.Permission.DELETE_ORGANIZATION;
import static io.dagy.contracts.identity.Permission.DEPLOY;
import static io.dagy.contracts.identity.Permission.MANAGE_API_KEYS;
import static io.dagy.contracts.identity.Permission.MANAGE_MEMBERS;
import static io.dagy.contracts.identity.Permission.OPERATE_INSTALLATION;
import static io.dagy.contracts.identity.Permission.OPERATE_RUNS;
import static io.dagy.contracts.identity.Permission.READ;
import static io.dagy.contracts.identity.Permission.READ_AUDIT;
import static io.dagy.contracts.identity.Permission.READ_USAGE;
import static io.dagy.contracts.identity.Permission.REPLAY_AUDIT;
import static io.dagy.contracts.identity.Permission.WORK;
import static org.springframework.http.HttpMethod.DELETE;
import static org.springframework.http.HttpMethod.GET;
import static org.springframework.http.HttpMethod.POST;
import static org.springframework.http.HttpMethod.PUT;

/**
 * Every route of the API and what it requires: the one place access is decided (docs/security.md prints this table
 * with the roles). A test checks that every endpoint the application maps is listed here, so an endpoint cannot be
 * added without deciding who may call it. A path no route matches needs only an authenticated caller; the MVC layer
 * then answers 404 or 405.
 */
public final class ApiRoutes {

    public record Route(HttpMethod method, String pattern, Access access) {
        PathPattern parsed() {
            return PathPatternParser.defaultInstance.parse(pattern);
        }
    }

    public static final List<Route> ROUTES = List.of(
            new Route(GET, "/health", new Access.Public()),
            new Route(GET, "/health/detailed", new Access.Public()),
            new Route(POST, "/webhooks/clerk", new Access.Public()),

            new Route(POST, "/v1/organizations", new Access.SignedInUser()),
            new Route(GET, "/v1/organization", new Access.Requires(READ)),
            new Route(DELETE, "/v1/organization", new Access.Requires(DELETE_ORGANIZATION)),
            new Route(GET, "/v1/organization/members", new Access.Requires(READ)),
            new Route(PUT, "/v1/organization/members/{userId}", new Access.Requires(MANAGE_MEMBERS)),
            new Route(DELETE, "/v1/organization/members/{userId}", new Access.Requires(MANAGE_MEMBERS)),
            new Route(GET, "/v1/api-keys", new Access.Requires(MANAGE_API_KEYS)),
            new Route(POST, "/v1/api-keys", new Access.Requires(MANAGE_API_KEYS)),
            new Route(DELETE, "/v1/api-keys/{keyId}", new Access.Requires(MANAGE_API_KEYS)),
            // secrets are credentials like API keys: admins and owners; values are never returned
            new Route(GET, "/v1/secrets", new Access.Requires(MANAGE_API_KEYS)),
            new Route(GET, "/v1/secrets/{name}", new Access.Requires(MANAGE_API_KEYS)),
            new Route(PUT, "/v1/secrets/{name}", new Access.Requires(MANAGE_API_KEYS)),
            new Route(DELETE, "/v1/secrets/{name}", new Access.Requires(MANAGE_API_KEYS)),

            new Route(GET, "/v1/deployments", new Access.Requires(READ)),
            new Route(GET, "/v1/deployments/{name}", new Access.Requires(READ)),
            new Route(PUT, "/v1/deployments/{name}", new Access.Requires(DEPLOY)),
            new Route(PUT, "/v1/deployments/{name}/settings", new Access.Requires(CHANGE_SETTINGS)),
            new Route(POST, "/v1/deployments/{name}/runs", new Access.Requires(OPERATE_RUNS)),

            new Route(GET, "/v1/deployments/{name}/schedules", new Access.Requires(READ)),
            new Route(POST, "/v1/deployments/{name}/schedules", new Access.Requires(CHANGE_SETTINGS)),
            new Route(GET, "/v1/deployments/{name}/schedules/{scheduleId}", new Access.Requires(READ)),
            new Route(PUT, "/v1/deployments/{name}/schedules/{scheduleId}", new Access.Requires(CHANGE_SETTINGS)),
            new Route(DELETE, "/v1/deployments/{name}/schedules/{scheduleId}", new Access.Requires(CHANGE_SETTINGS)),
            new Route(POST, "/v1/deployments/{name}/schedules/{scheduleId}/pause", new Access.Requires(OPERATE_RUNS)),
            new Route(POST, "/v1/deployments/{name}/schedules/{scheduleId}/unpause", new Access.Requires(OPERATE_RUNS)),
            new Route(POST, "/v1/deployments/{name}/schedules/{scheduleId}/trigger", new Access.Requires(OPERATE_RUNS)),
            new Route(POST, "/v1/deployments/{name}/schedules/{scheduleId}/backfill", new Access.Requires(OPERATE_RUNS)),

            new Route(GET, "/v1/runs", new Access.Requires(READ)),
            new Route(GET, "/v1/runs/{id}", new Access.Requires(READ)),
            new Route(GET, "/v1/runs/{id}/tasks", new Access.Requires(READ)),
            new Route(GET, "/v1/runs/{id}/events", new Access.Requires(READ)),
            new Route(GET, "/v1/runs/{id}/stream", new Access.Requires(READ)),
            new Route(POST, "/v1/runs/{id}/cancel", new Access.Requires(OPERATE_RUNS)),
            new Route(POST, "/v1/runs/{id}/rerun", new Access.Requires(OPERATE_RUNS)),

            new Route(GET, "/v1/audit", new Access.Requires(READ_AUDIT)),
            new Route(GET, "/v1/audit/verify", new Access.Requires(READ_AUDIT)),
            new Route(POST, "/v1/audit/replay", new Access.Requires(REPLAY_AUDIT)),
            new Route(GET, "/v1/audit/replay/{jobId}", new Access.Requires(REPLAY_AUDIT)),
            new Route(GET, "/v1/usage", new Access.Requires(READ_USAGE)),

            new Route(POST, "/v1/workers/poll", new Access.Requires(WORK)),
            new Route(POST, "/v1/workers/attempts/{runId}/{taskId}/{attempt}/heartbeat", new Access.Requires(WORK)),
            new Route(POST, "/v1/workers/attempts/{runId}/{taskId}/{attempt}/complete", new Access.Requires(WORK)),
            new Route(POST, "/v1/workers/attempts/{runId}/{taskId}/{attempt}/fail", new Access.Requires(WORK)),

            // installation-wide: owners of the default organization only
            new Route(GET, "/v1/admin/dead-letters", new Access.Operator(OPERATE_INSTALLATION)),
            new Route(POST, "/v1/admin/dead-letters/{processor}/{sequence}/retry", new Access.Operator(OPERATE_INSTALLATION)),
            new Route(DELETE, "/v1/admin/dead-letters/{processor}/{sequence}", new Access.Operator(OPERATE_INSTALLATION)));

    private record Parsed(Route route, PathPattern pattern) {
    }

    private static final List<Parsed> PARSED = ROUTES.stream().map(r -> new Parsed(r, r.parsed())).toList();

    private ApiRoutes() {
    }

    /**
     * The route a request takes, if it is one of the API's. {@code HEAD} takes the {@code GET} route, as Spring MVC
     * serves it with the {@code GET} handler (its status and length would tell what the body holds).
     */
    public static Optional<Route> match(String method, String path) {
        PathContainer container = PathContainer.parsePath(path);
        String as = "HEAD".equalsIgnoreCase(method) ? "GET" : method;
        return PARSED.stream()
                .filter(p -> p.route().method().matches(as) && p.pattern().matches(container))
                .map(Parsed::route)
                .findFirst();
    }

    /** Whether any route, whatever its method, is public at this path (so a wrong method still gets its 405). */
    public static boolean isPublicPath(String path) {
        PathContainer container = PathContainer.parsePath(path);
        return PARSED.stream().anyMatch(p -> p.route().access() instanceof Access.Public && p.pattern().matches(container));
    }

    /** The permission a route requires, if it requires one (an operator's route also requires the default organization). */
    public static Optional<Permission> permissionOf(Route route) {
        if (route.access() instanceof Access.Operator operator) {
            return Optional.of(operator.permission());
        }
        return route.access() instanceof Access.Requires requires ? Optional.of(requires.permission()) : Optional.empty();
    }
}
