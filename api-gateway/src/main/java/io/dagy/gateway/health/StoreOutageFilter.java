package io.dagy.gateway.health;

import io.dagy.gateway.problem.ProblemWriter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;

/**
 * Answers 503 {@code service_unavailable} with {@code Retry-After} at once while the store is down (health excepted,
 * which says so itself), and turns a request that finds the store unreachable into the same answer.
 */
final class StoreOutageFilter extends OncePerRequestFilter {

    private final StoreOutage outage;
    private final ProblemWriter problems;

    StoreOutageFilter(StoreOutage outage, ProblemWriter problems) {
        this.outage = outage;
        this.problems = problems;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        boolean health = request.getRequestURI().startsWith("/health");
        if (outage.isDown() && !health) {
            unavailable(request, response);
            return;
        }
        try {
            chain.doFilter(request, response);
        } catch (ServletException | IOException | RuntimeException failure) {
            if (!StoreOutage.isUnreachable(failure) || response.isCommitted()) {
                throw failure;
            }
            outage.markDown(failure);
            response.resetBuffer();
            unavailable(request, response);
        }
    }

    private void unavailable(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setHeader("Retry-After", Long.toString(outage.retryAfterSeconds()));
        problems.write(request, response, outage.unavailable());
    }
}
