package io.dagy.gateway.ratelimit;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemWriter;
import io.dagy.gateway.problem.Problems;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Limits requests per API key, or per client address for requests without one. Every limited answer carries
 * {@code X-RateLimit-Limit} (requests per minute) and {@code X-RateLimit-Remaining}; a refused request gets a 429
 * {@code rate_limited} problem with {@code Retry-After} and never reaches the application.
 *
 * <p>Not limited: {@code /health}, {@code /health/**} (load balancers and alerting poll them, and they must answer
 * when the limiter's store does not) and {@code /webhooks/**} (third parties deliver from shared addresses and retry
 * on 429, and a signature, not the caller's address, decides whether a delivery is accepted).
 */
public final class RateLimitFilter extends OncePerRequestFilter {

    public static final String LIMIT_HEADER = "X-RateLimit-Limit";
    public static final String REMAINING_HEADER = "X-RateLimit-Remaining";

    private static final String BEARER = "bearer ";

    private final RateLimiter limiter;
    private final ProblemWriter problems;

    RateLimitFilter(RateLimiter limiter, ProblemWriter problems) {
        this.limiter = limiter;
        this.problems = problems;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        // the decoded, normalized path the application routes by: "/health/../v1/runs" is "/v1/runs" here
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        return path.equals("/health") || path.startsWith("/health/") || path.startsWith("/webhooks/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        RateLimiter.Verdict verdict = limiter.take(keyOf(request));
        response.setHeader(LIMIT_HEADER, Integer.toString(limiter.perMinute()));
        verdict.remaining().ifPresent(remaining -> response.setHeader(REMAINING_HEADER, Long.toString(remaining)));
        if (verdict.allowed()) {
            chain.doFilter(request, response);
            return;
        }
        response.setHeader(HttpHeaders.RETRY_AFTER, Long.toString(verdict.retryAfterSeconds()));
        problems.write(request, response, Problems.of(HttpStatus.TOO_MANY_REQUESTS, ErrorCode.RATE_LIMITED,
                "Too many requests: at most " + limiter.perMinute() + " per minute. Retry after "
                        + verdict.retryAfterSeconds() + " s."));
    }

    /**
     * The bucket's key: {@code key#} and a SHA-256 of the bearer token when the request presents one (the token
     * itself is never stored), else {@code ip#} and the client address. The hash is salted with a fixed prefix, so
     * it differs from the hash that identifies an API key in {@code DAGY_API_KEYS}: a bucket row cannot be linked to
     * a key.
     */
    static String keyOf(HttpServletRequest request) {
        String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            String token = authorization.substring(BEARER.length()).strip();
            if (!token.isEmpty()) {
                return "key#" + sha256("rate-limit:" + token);
            }
        }
        return "ip#" + request.getRemoteAddr();
    }

    private static String sha256(String token) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException("every Java runtime has SHA-256", impossible);
        }
    }
}
