package io.dagy.gateway.problem;

import io.dagy.contracts.ErrorCode;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;

import java.net.URI;

/** Builds RFC 9457 problem details that always carry a stable {@code code}. */
public final class Problems {

    /** The problem's {@code type} is a URN per code, so clients can also branch on the type. */
    private static final String TYPE_PREFIX = "urn:dagy:problem:";

    private Problems() {
    }

    public static ProblemDetail of(HttpStatusCode status, ErrorCode code, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        return withCode(problem, code);
    }

    /** Adds the code (and its type) to a problem Spring already built. */
    public static ProblemDetail withCode(ProblemDetail problem, ErrorCode code) {
        problem.setType(URI.create(TYPE_PREFIX + code.code()));
        problem.setProperty("code", code.code());
        return problem;
    }

    /** The code for a bare HTTP status, for errors that carry nothing more specific. */
    public static ErrorCode codeFor(HttpStatusCode status) {
        HttpStatus known = HttpStatus.resolve(status.value());
        if (known == null) {
            return status.is4xxClientError() ? ErrorCode.BAD_REQUEST : ErrorCode.INTERNAL_ERROR;
        }
        return switch (known) {
            case NOT_FOUND -> ErrorCode.ROUTE_NOT_FOUND;
            case METHOD_NOT_ALLOWED -> ErrorCode.METHOD_NOT_ALLOWED;
            case NOT_ACCEPTABLE -> ErrorCode.NOT_ACCEPTABLE;
            case UNSUPPORTED_MEDIA_TYPE -> ErrorCode.UNSUPPORTED_MEDIA_TYPE;
            case CONTENT_TOO_LARGE -> ErrorCode.PAYLOAD_TOO_LARGE;
            case SERVICE_UNAVAILABLE -> ErrorCode.SERVICE_UNAVAILABLE;
            default -> status.is4xxClientError() ? ErrorCode.BAD_REQUEST : ErrorCode.INTERNAL_ERROR;
        };
    }
}
