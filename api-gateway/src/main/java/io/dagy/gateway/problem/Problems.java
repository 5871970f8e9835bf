package io.dagy.gateway.problem;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;

import java.net.URI;
import java.util.List;
import java.util.Map;

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

    /** The problem {@code type} of a code: {@code urn:dagy:problem:<code>}. */
    public static URI typeOf(ErrorCode code) {
        return URI.create(TYPE_PREFIX + code.code());
    }

    /** Adds the code (and its type) to a problem Spring already built. */
    public static ProblemDetail withCode(ProblemDetail problem, ErrorCode code) {
        problem.setType(typeOf(code));
        problem.setProperty("code", code.code());
        return problem;
    }

    /** The HTTP status of a business error code; exhaustive, so a new code cannot be forgotten here. */
    public static HttpStatus statusOf(ErrorCode code) {
        return switch (code) {
            case MALFORMED_REQUEST, VALIDATION_FAILED, BAD_REQUEST -> HttpStatus.BAD_REQUEST;
            case ROUTE_NOT_FOUND, DEPLOYMENT_NOT_FOUND, REPLAY_NOT_FOUND, RUN_NOT_FOUND, SCHEDULE_NOT_FOUND, ATTEMPT_NOT_FOUND,
                 ORGANIZATION_NOT_FOUND, API_KEY_NOT_FOUND, SECRET_NOT_FOUND, MEMBER_NOT_FOUND, PROCESSOR_NOT_FOUND, DEAD_LETTER_SEQUENCE_NOT_FOUND ->
                    HttpStatus.NOT_FOUND;
            case UNAUTHENTICATED, INVALID_SIGNATURE -> HttpStatus.UNAUTHORIZED;
            case FORBIDDEN -> HttpStatus.FORBIDDEN;
            case RATE_LIMITED -> HttpStatus.TOO_MANY_REQUESTS;
            case LAST_OWNER -> HttpStatus.CONFLICT;
            case METHOD_NOT_ALLOWED -> HttpStatus.METHOD_NOT_ALLOWED;
            case NOT_ACCEPTABLE -> HttpStatus.NOT_ACCEPTABLE;
            case UNSUPPORTED_MEDIA_TYPE -> HttpStatus.UNSUPPORTED_MEDIA_TYPE;
            case PAYLOAD_TOO_LARGE -> HttpStatus.CONTENT_TOO_LARGE;
            case HEADERS_TOO_LARGE -> HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
            case CONCURRENT_MODIFICATION, RUN_NOT_FINISHED, DEAD_LETTER_SEQUENCE_BUSY -> HttpStatus.CONFLICT;
            case SERVICE_UNAVAILABLE -> HttpStatus.SERVICE_UNAVAILABLE;
            case INTERNAL_ERROR -> HttpStatus.INTERNAL_SERVER_ERROR;
        };
    }

    /** A problem for a business error, with its field errors as {@code errors}. */
    public static ProblemDetail of(BusinessError error) {
        return withErrors(of(statusOf(error.code()), error.code(), error.message()), error.errors());
    }

    /** A problem for a refusal raised outside the business rules (filters, request checks). */
    public static ProblemDetail of(ProblemException refusal) {
        return withErrors(of(refusal.status(), refusal.code(), refusal.getMessage()), refusal.errors());
    }

    /** Adds the field errors, if any, as {@code errors}: a list of {@code {field, message}}. */
    public static ProblemDetail withErrors(ProblemDetail problem, List<BusinessError.FieldError> errors) {
        if (!errors.isEmpty()) {
            problem.setProperty("errors", errors.stream().map(e -> Map.of("field", e.field(), "message", e.message())).toList());
        }
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
            case REQUEST_HEADER_FIELDS_TOO_LARGE -> ErrorCode.HEADERS_TOO_LARGE;
            case SERVICE_UNAVAILABLE -> ErrorCode.SERVICE_UNAVAILABLE;
            default -> status.is4xxClientError() ? ErrorCode.BAD_REQUEST : ErrorCode.INTERNAL_ERROR;
        };
    }
}
