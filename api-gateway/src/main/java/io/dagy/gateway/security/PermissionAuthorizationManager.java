package io.dagy.gateway.security;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.authorization.AuthorizationResult;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.security.web.access.intercept.RequestAuthorizationContext;

import java.util.function.Supplier;

/**
 * The one access decision of the API: the route's {@link Access} against the caller. A refusal of an anonymous caller
 * becomes 401, of a known one 403 (both as problem responses).
 */
final class PermissionAuthorizationManager implements AuthorizationManager<RequestAuthorizationContext> {

    @Override
    public AuthorizationResult authorize(Supplier<? extends Authentication> authentication, RequestAuthorizationContext context) {
        HttpServletRequest request = context.getRequest();
        Authentication who = authentication.get();
        boolean authenticated = who != null && who.isAuthenticated() && !(who instanceof AnonymousAuthenticationToken);
        var route = ApiRoutes.match(request.getMethod(), request.getRequestURI());
        if (route.isEmpty()) {
            return new AuthorizationDecision(authenticated || ApiRoutes.isPublicPath(request.getRequestURI()));
        }
        Access access = route.get().access();
        if (access instanceof Access.Public) {
            return new AuthorizationDecision(true);
        }
        if (access instanceof Access.SignedInUser) {
            return new AuthorizationDecision(who instanceof JwtAuthenticationToken);
        }
        if (access instanceof Access.Operator operator) {
            return new AuthorizationDecision(Caller.of(request).map(caller -> caller.isOperator(operator.permission()))
                    .orElse(false));
        }
        var required = ((Access.Requires) access).permission();
        return new AuthorizationDecision(Caller.of(request).map(caller -> caller.role().allows(required)).orElse(false));
    }
}
