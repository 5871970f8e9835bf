package io.dagy.gateway.audit;

import io.dagy.contracts.audit.AuditEvents.ActionRefused;
import io.dagy.contracts.identity.ActorKind;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.ApiKeys;
import io.dagy.gateway.security.ApiRoutes;
import io.dagy.gateway.security.Caller;
import io.dagy.projection.identity.IdentityDirectory;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.axonframework.eventhandling.EventBus;
import org.axonframework.eventhandling.GenericEventMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.PathContainer;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.ContentCachingResponseWrapper;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Audits refused actions (decision 47): a write request ({@code POST}, {@code PUT}, {@code DELETE}) to one of the
 * API's routes that an authenticated caller of an organization sent and that was answered with a 4xx other than 401
 * (a denied permission, a rejected validation, a business rule, a rate limit) becomes an
 * {@link ActionRefused} event, appended to the event store <em>before</em> the answer leaves: the body is held until
 * the append returned, so a client that saw the refusal can rely on its record. The audit projection chains it like
 * any action, with status {@code failure} and the problem's code as the reason; a replay finds it again.
 *
 * <p>Rate-limited requests never reach authentication, so their caller is found here by the key's hash (one
 * consistent read, as authentication costs); per key, only the first refusal of each minute on this node is recorded,
 * so a client hammering the limit cannot turn each refused request into a write. Refusals without an organization
 * (401, a person naming no organization) and reads are not recorded: the access log has them.
 */
final class RefusalAuditFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(RefusalAuditFilter.class);
    private static final Set<String> WRITES = Set.of("POST", "PUT", "DELETE", "PATCH");
    private static final int MAX_RESOURCE_ID = 256;
    private static final int MAX_USER_AGENT = 256;
    private static final String BEARER = "bearer ";

    /** What each write route does, for the record: its action, the resource type, the path variable naming it. */
    record Action(PathPattern pattern, String method, String action, String resourceType, String variable) {
    }

    private static final java.util.List<Action> ACTIONS = java.util.List.of(
            action("DELETE", "/v1/organization", "organization_deleted", "organization", null),
            action("PUT", "/v1/organization/members/{userId}", "member_role_changed", "member", "userId"),
            action("DELETE", "/v1/organization/members/{userId}", "member_removed", "member", "userId"),
            action("POST", "/v1/api-keys", "api_key_created", "api_key", null),
            action("DELETE", "/v1/api-keys/{keyId}", "api_key_revoked", "api_key", "keyId"),
            action("PUT", "/v1/deployments/{name}", "deployment_published", "deployment", "name"),
            action("PUT", "/v1/deployments/{name}/settings", "deployment_settings_changed", "deployment", "name"),
            action("POST", "/v1/deployments/{name}/runs", "run_started", "deployment", "name"),
            action("POST", "/v1/billing/checkout", "billing_checkout_started", "organization", null),
            action("POST", "/v1/billing/portal", "billing_portal_opened", "organization", null),
            action("POST", "/v1/deployments/{name}/schedules", "schedule_created", "deployment", "name"),
            action("PUT", "/v1/deployments/{name}/schedules/{scheduleId}", "schedule_updated", "schedule", "scheduleId"),
            action("DELETE", "/v1/deployments/{name}/schedules/{scheduleId}", "schedule_deleted", "schedule", "scheduleId"),
            action("POST", "/v1/deployments/{name}/schedules/{scheduleId}/pause", "schedule_paused", "schedule",
                    "scheduleId"),
            action("POST", "/v1/deployments/{name}/schedules/{scheduleId}/unpause", "schedule_unpaused", "schedule",
                    "scheduleId"),
            action("POST", "/v1/deployments/{name}/schedules/{scheduleId}/trigger", "schedule_triggered", "schedule",
                    "scheduleId"),
            action("POST", "/v1/deployments/{name}/schedules/{scheduleId}/backfill", "schedule_backfilled", "schedule",
                    "scheduleId"),
            action("POST", "/v1/runs/{id}/cancel", "run_cancelled", "run", "id"),
            action("POST", "/v1/runs/{id}/rerun", "run_rerun", "run", "id"),
            action("POST", "/v1/audit/replay", "audit_replay_started", "audit", null),
            action("POST", "/v1/admin/dead-letters/{processor}/{sequence}/retry", "dead_letter_retried", "dead_letter",
                    "sequence"),
            action("DELETE", "/v1/admin/dead-letters/{processor}/{sequence}", "dead_letter_deleted", "dead_letter",
                    "sequence"));

    private final EventBus events;
    private final IdentityDirectory directory;
    private final JsonMapper json;
    private final Clock clock;
    private final Map<String, Long> rateLimitedMinute = new ConcurrentHashMap<>();

    RefusalAuditFilter(EventBus events, IdentityDirectory directory, JsonMapper json, Clock clock) {
        this.events = events;
        this.directory = directory;
        this.json = json;
        this.clock = clock;
    }

    private static Action action(String method, String pattern, String action, String type, String variable) {
        return new Action(PathPatternParser.defaultInstance.parse(pattern), method, action, type, variable);
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !WRITES.contains(request.getMethod()) || !request.getRequestURI().startsWith("/v1/")
                || request.getRequestURI().startsWith("/v1/workers/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        ContentCachingResponseWrapper held = new ContentCachingResponseWrapper(response);
        try {
            chain.doFilter(request, held);
        } catch (ProblemException problem) {
            audit(request, problem.status().value(), problem.code().code());
            throw problem;
        }
        int status = held.getStatus();
        try {
            if (status >= 400 && status < 500 && status != 401) {
                audit(request, status, codeOf(held));
            }
        } finally {
            held.copyBodyToResponse();
        }
    }

    private void audit(HttpServletRequest request, int status, String reason) {
        if (status < 400 || status >= 500 || status == 401) {
            return;
        }
        Optional<Action> action = actionOf(request);
        if (action.isEmpty()) {
            return;
        }
        Optional<Caller> caller = Caller.of(request);
        if (caller.isEmpty() && status == 429) {
            caller = rateLimitedCaller(request);
        }
        if (caller.isEmpty()) {
            return;
        }
        Caller who = caller.get();
        String resourceId = resourceIdOf(request, action.get());
        Map<String, Object> metaData = new HashMap<>();
        metaData.put(MessageKeys.ORG_ID, who.org().value());
        metaData.put(MessageKeys.ACTOR_KIND, who.actor().kind().code());
        metaData.put(MessageKeys.ACTOR_ID, who.actor().id());
        metaData.put(MessageKeys.IP_ADDRESS, request.getRemoteAddr());
        String agent = request.getHeader(HttpHeaders.USER_AGENT);
        if (agent != null) {
            metaData.put(MessageKeys.USER_AGENT, agent.length() > MAX_USER_AGENT ? agent.substring(0, MAX_USER_AGENT) : agent);
        }
        try {
            events.publish(GenericEventMessage.asEventMessage(new ActionRefused(who.org(), action.get().action(),
                    action.get().resourceType(), resourceId, status, reason)).andMetaData(metaData));
        } catch (RuntimeException failure) {
            // the refusal stands; its record could not be stored (the store is down): say so where operators look
            log.error("Could not record refused action {} {} of {} ({} {}) in the audit log", request.getMethod(),
                    request.getRequestURI(), who.actor(), status, reason, failure);
        }
    }

    private Optional<Action> actionOf(HttpServletRequest request) {
        if (ApiRoutes.match(request.getMethod(), request.getRequestURI()).isEmpty()) {
            return Optional.empty();
        }
        PathContainer path = PathContainer.parsePath(request.getRequestURI());
        return ACTIONS.stream().filter(a -> a.method().equals(request.getMethod()) && a.pattern().matches(path)).findFirst();
    }

    private static String resourceIdOf(HttpServletRequest request, Action action) {
        if (action.variable() == null) {
            return null;
        }
        var info = action.pattern().matchAndExtract(PathContainer.parsePath(request.getRequestURI()));
        String value = info == null ? null : info.getUriVariables().get(action.variable());
        return value == null || value.length() <= MAX_RESOURCE_ID ? value : value.substring(0, MAX_RESOURCE_ID);
    }

    /** The key's caller for a rate-limited request, at most once per key and minute on this node. */
    private Optional<Caller> rateLimitedCaller(HttpServletRequest request) {
        String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return Optional.empty();
        }
        String token = authorization.substring(BEARER.length()).strip();
        if (!ApiKeys.looksLikeKey(token)) {
            return Optional.empty();
        }
        String hash = ApiKeys.hash(token);
        long minute = clock.millis() / 60_000;
        Long before = rateLimitedMinute.put(hash, minute);
        if (before != null && before == minute) {
            return Optional.empty();
        }
        if (rateLimitedMinute.size() > 100_000) {
            rateLimitedMinute.clear();
        }
        return directory.key(hash).filter(grant -> grant.usableAt(clock.instant()))
                .map(grant -> new Caller(grant.org(), new io.dagy.contracts.identity.Actor(
                        grant.role() == io.dagy.contracts.identity.Role.WORKER ? ActorKind.WORKER : ActorKind.API_KEY,
                        grant.keyId().value()), grant.role()));
    }

    private String codeOf(ContentCachingResponseWrapper response) {
        byte[] body = response.getContentAsByteArray();
        try {
            JsonNode code = json.readTree(body).get("code");
            return code != null && code.isString() ? code.asString() : "http_" + response.getStatus();
        } catch (RuntimeException notAProblem) {
            return "http_" + response.getStatus();
        }
    }
}
