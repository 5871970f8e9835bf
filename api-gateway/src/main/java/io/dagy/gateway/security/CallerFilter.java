package io.dagy.gateway.security;

import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.identity.Actor;
import io.dagy.contracts.identity.ActorKind;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.projection.identity.IdentityDirectory;
import io.dagy.projection.user.UserDirectory;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Turns an authenticated request into its {@link Caller}: an API key names its organization and role; a person (JWT)
 * names the organization in the token's organization claim or the {@code X-Dagy-Org} header (or is a member of
 * exactly one), and their role there comes from the memberships, never from the token, so a removed member loses
 * access at once. A person naming an organization they are not a member of gets 404, whether it exists or not.
 */
public final class CallerFilter extends OncePerRequestFilter {

    static final String ORG_HEADER = "X-Dagy-Org";
    /** Request attribute: the user id of a signed-in person, with or without an organization. */
    public static final String USER_ATTRIBUTE = "dagy.user";

    private final IdentityDirectory directory;
    private final UserDirectory users;
    private final String orgClaim;
    private final SecurityProblems problems;

    CallerFilter(IdentityDirectory directory, UserDirectory users, String orgClaim, SecurityProblems problems) {
        this.directory = directory;
        this.users = users;
        this.orgClaim = orgClaim;
        this.problems = problems;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        if (authentication instanceof ApiKeyAuthenticationProvider.ApiKeyAuthentication key) {
            request.setAttribute(Caller.ATTRIBUTE, key.caller());
        } else if (authentication instanceof JwtAuthenticationToken jwt) {
            String userId = jwt.getToken().getSubject();
            if (userId == null || userId.isBlank()) {
                problems.write(request, response, HttpStatus.UNAUTHORIZED, ErrorCode.UNAUTHENTICATED,
                        "The token names no subject.");
                return;
            }
            // a person the identity provider deleted is refused even with an unexpired token; one whose sign-up has
            // not reached Dagy yet (UNKNOWN) is let through: the token proves who they are, membership what they may do
            if (users.status(userId) == UserDirectory.Status.DELETED) {
                problems.write(request, response, HttpStatus.UNAUTHORIZED, ErrorCode.UNAUTHENTICATED,
                        "The credentials are not valid (malformed, expired, not yet valid, revoked, or not issued for Dagy).");
                return;
            }
            request.setAttribute(USER_ATTRIBUTE, userId);
            Optional<String> named = Optional.ofNullable(jwt.getToken().getClaimAsString(orgClaim))
                    .or(() -> Optional.ofNullable(request.getHeader(ORG_HEADER)));
            Optional<OrgId> org;
            if (named.isPresent()) {
                if (!OrgId.isValid(named.get())) {
                    problems.write(request, response, HttpStatus.NOT_FOUND, ErrorCode.ORGANIZATION_NOT_FOUND,
                            "You are not a member of that organization.");
                    return;
                }
                org = Optional.of(new OrgId(named.get()));
            } else {
                List<OrgId> memberOf = directory.organizationsOf(userId);
                org = memberOf.size() == 1 ? Optional.of(memberOf.get(0)) : Optional.empty();
            }
            if (org.isPresent()) {
                Optional<Role> role = directory.role(userId, org.get());
                if (role.isEmpty()) {
                    if (needsOrganization(request)) {
                        problems.write(request, response, HttpStatus.NOT_FOUND, ErrorCode.ORGANIZATION_NOT_FOUND,
                                "You are not a member of that organization.");
                        return;
                    }
                } else {
                    request.setAttribute(Caller.ATTRIBUTE, new Caller(org.get(), new Actor(ActorKind.USER, userId), role.get()));
                }
            } else if (needsOrganization(request)) {
                problems.write(request, response, HttpStatus.FORBIDDEN, ErrorCode.FORBIDDEN,
                        "Name the organization to act in with the " + ORG_HEADER + " header or the '" + orgClaim
                                + "' claim.");
                return;
            }
        }
        chain.doFilter(request, response);
    }

    private static boolean needsOrganization(HttpServletRequest request) {
        return ApiRoutes.match(request.getMethod(), request.getRequestURI())
                .map(route -> route.access() instanceof Access.Requires || route.access() instanceof Access.Operator)
                .orElse(false);
    }
}
