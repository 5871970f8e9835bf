package io.dagy.gateway.accesslog;

import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.Caller;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Records every request in the access log once it is answered. It gives each request an id (the request attribute
 * {@link #REQUEST_ID_ATTRIBUTE} and the answer header {@code X-Request-Id}) and, being the outermost filter, reads the
 * {@link Caller} that authentication stored on the request after the rest of the chain has returned.
 *
 * <p>Never recorded: the {@code Authorization} header or any other header value but a truncated
 * {@code User-Agent}, the query string (it may carry tokens or personal data), bodies.
 */
public final class AccessLogFilter extends OncePerRequestFilter {

    /** The request attribute holding this request's id. */
    public static final String REQUEST_ID_ATTRIBUTE = "dagy.request_id";
    public static final String REQUEST_ID_HEADER = "X-Request-Id";

    static final int MAX_PATH = 1024;
    static final int MAX_USER_AGENT = 256;

    private final AccessLogWriter writer;

    AccessLogFilter(AccessLogWriter writer) {
        this.writer = writer;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Instant arrived = Instant.now();
        long start = System.nanoTime();
        String requestId = UUID.randomUUID().toString();
        request.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
        response.setHeader(REQUEST_ID_HEADER, requestId);
        Integer failedStatus = null;
        try {
            chain.doFilter(request, response);
        } catch (ProblemException problem) {
            failedStatus = problem.status().value();   // the error page answers it with this status
            throw problem;
        } catch (IOException | ServletException | RuntimeException | Error failure) {
            failedStatus = 500;
            throw failure;
        } finally {
            int status = failedStatus != null ? failedStatus : response.getStatus();
            long latency = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            Optional<Caller> caller = Caller.of(request);
            writer.offer(new AccessLogEntry(arrived, requestId, request.getMethod(),
                    truncate(request.getRequestURI(), MAX_PATH), status, latency,
                    caller.map(c -> c.actor().toString()).orElse(AccessLogEntry.ANONYMOUS),
                    caller.map(c -> c.org().value()).orElse(null),
                    request.getRemoteAddr(), truncate(request.getHeader(HttpHeaders.USER_AGENT), MAX_USER_AGENT)));
        }
    }

    private static String truncate(String value, int max) {
        return value == null || value.length() <= max ? value : value.substring(0, max);
    }
}
