package io.dagy.gateway.security;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.Problems;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;
import io.dagy.gateway.problem.ProblemWriter;

import java.io.IOException;

/**
 * Refusals of the security filters as problem responses, like every other error: 401 {@code unauthenticated} (with
 * {@code WWW-Authenticate: Bearer}) and 403 {@code forbidden}. The detail never repeats the presented credentials.
 */
final class SecurityProblems implements AuthenticationEntryPoint, AccessDeniedHandler {

    private final ProblemWriter writer;

    SecurityProblems(ProblemWriter writer) {
        this.writer = writer;
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
        writer.write(request, response, Problems.of(status, code, detail));
    }
}
