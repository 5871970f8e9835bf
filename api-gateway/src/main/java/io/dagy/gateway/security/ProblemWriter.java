package io.dagy.gateway.security;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.Problems;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;

/**
 * Refusals of the security filters as problem responses, like every other error: 401 {@code unauthenticated} (with
 * {@code WWW-Authenticate: Bearer}) and 403 {@code forbidden}. The detail never repeats the presented credentials.
 */
final class ProblemWriter implements AuthenticationEntryPoint, AccessDeniedHandler {

    private final JsonMapper json;

    ProblemWriter(JsonMapper json) {
        this.json = json;
    }

    @Override
    public void commence(HttpServletRequest request, HttpServletResponse response, AuthenticationException failure)
            throws IOException {
        response.setHeader("WWW-Authenticate", "Bearer");
        boolean presented = request.getHeader("Authorization") != null;
        String detail = !presented
                ? "This request needs credentials: an API key or a token, as 'Authorization: Bearer ...'."
                : failure.getMessage() != null && failure.getMessage().startsWith("The API key")
                ? failure.getMessage()
                : "The credentials are not valid (malformed, expired, not yet valid, revoked, or not issued for Dagy).";
        write(request, response, HttpStatus.UNAUTHORIZED, ErrorCode.UNAUTHENTICATED, detail);
    }

    @Override
    public void handle(HttpServletRequest request, HttpServletResponse response, AccessDeniedException denied)
            throws IOException {
        write(request, response, HttpStatus.FORBIDDEN, ErrorCode.FORBIDDEN,
                "Your role in this organization does not allow this action.");
    }

    void write(HttpServletRequest request, HttpServletResponse response, HttpStatus status, ErrorCode code, String detail)
            throws IOException {
        ProblemDetail problem = Problems.of(status, code, detail);
        try {
            problem.setInstance(URI.create(request.getRequestURI()));
        } catch (IllegalArgumentException unusualPath) {
            // an instance is optional; a path java.net.URI refuses is left out
        }
        response.setStatus(status.value());
        response.setContentType("application/problem+json");
        response.getOutputStream().write(json.writeValueAsBytes(problem));
    }
}
