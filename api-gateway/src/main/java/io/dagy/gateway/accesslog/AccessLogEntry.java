package io.dagy.gateway.accesslog;

import java.time.Instant;
import java.util.Objects;

/**
 * One answered request. It holds no header value except the (truncated) user agent, no query string and no body.
 *
 * @param timestamp    when the request arrived
 * @param requestId    this request's id, also sent back as {@code X-Request-Id}
 * @param method       the HTTP method
 * @param path         the path as sent, without the query string
 * @param status       the answer's status
 * @param latencyMillis time from arrival to answer
 * @param actor        {@code kind:id} of the authenticated caller, or {@code anonymous}
 * @param organization the caller's organization, or null when the request was not authenticated
 * @param clientIp     the client address (docs/rate-limits-and-edge.md, "Client address")
 * @param userAgent    the {@code User-Agent}, truncated, or null
 */
record AccessLogEntry(Instant timestamp, String requestId, String method, String path, int status, long latencyMillis,
                      String actor, String organization, String clientIp, String userAgent) {

    static final String ANONYMOUS = "anonymous";

    AccessLogEntry {
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(actor, "actor");
        Objects.requireNonNull(clientIp, "clientIp");
    }
}
