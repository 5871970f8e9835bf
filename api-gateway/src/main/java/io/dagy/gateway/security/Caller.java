package io.dagy.gateway.security;

import io.dagy.contracts.identity.Actor;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import jakarta.servlet.http.HttpServletRequest;

import java.util.Optional;

/**
 * The authenticated caller of one request: which organization it acts in, who it is, and its role there. The
 * authentication filter stores it as a request attribute; filters after it (access log, rate limit) and controllers
 * read it from there.
 */
public record Caller(OrgId org, Actor actor, Role role) {

    /** The request attribute that holds the {@link Caller}. */
    public static final String ATTRIBUTE = "dagy.caller";

    /**
     * Whether this caller operates the installation with {@code permission}: it acts in the {@code default}
     * organization and its role there allows it.
     */
    public boolean isOperator(io.dagy.contracts.identity.Permission permission) {
        return OrgId.DEFAULT.equals(org) && role.allows(permission);
    }

    public static Optional<Caller> of(HttpServletRequest request) {
        return Optional.ofNullable((Caller) request.getAttribute(ATTRIBUTE));
    }
}
