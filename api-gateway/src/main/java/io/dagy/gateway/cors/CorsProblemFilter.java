package io.dagy.gateway.cors;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemWriter;
import io.dagy.gateway.problem.Problems;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.web.cors.CorsConfigurationSource;
import org.springframework.web.cors.CorsUtils;
import org.springframework.web.cors.DefaultCorsProcessor;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;

/**
 * Spring's {@code CorsFilter}, except that a refused cross-origin request (an origin, method or header not allowed)
 * gets a 403 {@code forbidden} problem instead of the plain text "Invalid CORS request". A preflight that passes is
 * answered here; any other request goes on with the CORS headers set.
 */
final class CorsProblemFilter extends OncePerRequestFilter {

    private final CorsConfigurationSource source;
    private final ProblemWriter problems;
    private final DefaultCorsProcessor processor = new DefaultCorsProcessor() {
        @Override
        protected void rejectRequest(ServerHttpResponse response) {
            // the filter writes the problem: the default would write plain text and commit the response
        }
    };

    CorsProblemFilter(CorsConfigurationSource source, ProblemWriter problems) {
        this.source = source;
        this.problems = problems;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        boolean valid = processor.processRequest(source.getCorsConfiguration(request), request, response);
        if (!valid) {
            problems.write(request, response, Problems.of(HttpStatus.FORBIDDEN, ErrorCode.FORBIDDEN,
                    "Cross-origin requests from this origin, or with this method or these headers, are not allowed."));
            return;
        }
        if (CorsUtils.isPreFlightRequest(request)) {
            return;
        }
        chain.doFilter(request, response);
    }
}
