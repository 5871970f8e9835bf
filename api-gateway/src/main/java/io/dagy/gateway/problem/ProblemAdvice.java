package io.dagy.gateway.problem;

import io.dagy.gateway.health.StoreOutage;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.ErrorCode;
import io.dagy.eventstore.events.EventTooLargeException;
import io.dagy.saga.report.ReportTooLargeException;
import org.axonframework.commandhandling.CommandExecutionException;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.axonframework.modelling.command.ConcurrencyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.TypeMismatchException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.PropertyBindingException;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Every exception that reaches Spring MVC becomes an {@code application/problem+json} response with a stable code.
 * Errors outside MVC (servlet filters, the container) go through {@link ProblemErrorController}.
 *
 * <p>Every problem is sent as {@code application/problem+json} whatever the request's {@code Accept} says: the
 * content type is set on the response, so content negotiation (which answers an unreadable or unsatisfiable
 * {@code Accept} with an empty body) never runs for an error.
 */
@RestControllerAdvice
class ProblemAdvice extends ResponseEntityExceptionHandler {

    private final StoreOutage outage;

    ProblemAdvice(StoreOutage outage) {
        this.outage = outage;
    }

    private static final Logger log = LoggerFactory.getLogger(ProblemAdvice.class);

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex,
                                                                  HttpHeaders headers, HttpStatusCode status,
                                                                  WebRequest request) {
        ProblemException refusal = causeOf(ex, ProblemException.class);
        if (refusal != null) {
            // the body was cut off by the request firewall (too large)
            return handleExceptionInternal(ex, Problems.of(refusal), headers, refusal.status(), request);
        }
        // Never echo the parser's message: it can quote the body back. Say what is wrong in general terms, and where.
        ProblemDetail problem = Problems.of(status, ErrorCode.MALFORMED_REQUEST,
                "The request body is not valid JSON or does not match the expected shape.");
        JacksonException jackson = causeOf(ex, JacksonException.class);
        if (jackson != null && !jackson.getPath().isEmpty()) {
            Problems.withErrors(problem, List.of(new FieldError(JsonPaths.of(jackson), JsonPaths.complaint(jackson))));
        }
        return handleExceptionInternal(ex, problem, headers, status, request);
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException ex,
                                                                  HttpHeaders headers, HttpStatusCode status,
                                                                  WebRequest request) {
        ProblemDetail problem = Problems.of(status, ErrorCode.VALIDATION_FAILED, "The request has invalid fields.");
        List<Map<String, String>> errors = ex.getBindingResult().getFieldErrors().stream()
                .map(error -> Map.of("field", error.getField(),
                        "message", String.valueOf(error.getDefaultMessage())))
                .toList();
        problem.setProperty("errors", errors);
        return handleExceptionInternal(ex, problem, headers, status, request);
    }

    /** A query parameter or path segment that does not convert ({@code limit=abc}): name it, never echo it. */
    @Override
    protected ResponseEntity<Object> handleTypeMismatch(TypeMismatchException ex, HttpHeaders headers,
                                                        HttpStatusCode status, WebRequest request) {
        String name = ex.getPropertyName() == null ? "parameter" : ex.getPropertyName();
        Class<?> type = ex.getRequiredType();
        String expected = type == int.class || type == Integer.class || type == long.class || type == Long.class
                ? "must be an integer" : "has the wrong type";
        ProblemDetail problem = Problems.withErrors(Problems.of(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED,
                "The request has invalid fields."), List.of(new FieldError(name, expected)));
        return handleExceptionInternal(ex, problem, headers, HttpStatus.BAD_REQUEST, request);
    }

    /** Adds the code to whatever problem Spring built for a standard MVC exception, and fixes the media type. */
    @Override
    protected ResponseEntity<Object> createResponseEntity(Object body, HttpHeaders headers, HttpStatusCode status,
                                                          WebRequest request) {
        if (body instanceof ProblemDetail problem) {
            if (!hasCode(problem)) {
                Problems.withCode(problem, Problems.codeFor(status));
            }
            HttpHeaders problemHeaders = new HttpHeaders();
            problemHeaders.putAll(headers);
            problemHeaders.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
            headers = problemHeaders;
        }
        return super.createResponseEntity(body, headers, status, request);
    }

    @ExceptionHandler(ProblemException.class)
    ResponseEntity<ProblemDetail> known(ProblemException ex) {
        return respond(Problems.of(ex));
    }

    /** A command refused by a business rule carries its error; anything else from a command is unexpected. */
    @ExceptionHandler(CommandExecutionException.class)
    ResponseEntity<ProblemDetail> refused(CommandExecutionException ex) {
        var error = ex.getDetails().filter(BusinessError.class::isInstance).map(BusinessError.class::cast);
        if (error.isEmpty()) {
            return unexpected(ex);
        }
        return respond(Problems.of(error.get()));
    }

    /**
     * Two writers appended to one aggregate at once and the command gateway's retries did not settle it: the client
     * may send the command again.
     */
    @ExceptionHandler({ConcurrencyException.class, AggregateStreamCreationException.class})
    ResponseEntity<ProblemDetail> conflict(RuntimeException ex) {
        return respond(Problems.of(HttpStatus.CONFLICT, ErrorCode.CONCURRENT_MODIFICATION,
                "The resource was changed concurrently; send the request again."));
    }

    /** What the request would store does not fit DynamoDB even compressed (a DAG of thousands of large tasks). */
    @ExceptionHandler(EventTooLargeException.class)
    ResponseEntity<ProblemDetail> tooLarge(EventTooLargeException ex) {
        log.info("Refused a request whose events would not fit: {}", ex.getMessage());
        return respond(Problems.of(HttpStatus.CONTENT_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE, "What this request would "
                + "store does not fit DynamoDB, even compressed (at most 400 KB per event and 4 MB per request). Use "
                + "fewer or smaller tasks, shorter ids or smaller params. Nothing was stored."));
    }

    /** A worker's report (its output or message) does not fit one queue message. */
    @ExceptionHandler(ReportTooLargeException.class)
    ResponseEntity<ProblemDetail> reportTooLarge(ReportTooLargeException ex) {
        return respond(Problems.of(HttpStatus.CONTENT_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE,
                "The report is larger than " + ReportTooLargeException.MAX_BYTES / 1024 + " KB with its output and "
                        + "message. Keep large results elsewhere and report where they are. Nothing was recorded."));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception ex) {
        if (StoreOutage.isUnreachable(ex)) {
            outage.markDown(ex);
            return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                    .header("Retry-After", Long.toString(outage.retryAfterSeconds()))
                    .body(outage.unavailable());
        }
        String incident = UUID.randomUUID().toString();
        log.error("Unexpected error, incident {}", incident, ex);
        ProblemDetail problem = Problems.of(HttpStatus.INTERNAL_SERVER_ERROR, ErrorCode.INTERNAL_ERROR,
                "An unexpected error occurred. Quote incident " + incident + " when reporting it.");
        problem.setProperty("incident", incident);
        return respond(problem);
    }

    private static ResponseEntity<ProblemDetail> respond(ProblemDetail problem) {
        return ResponseEntity.status(problem.getStatus()).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }

    private static boolean hasCode(ProblemDetail problem) {
        return problem.getProperties() != null && problem.getProperties().containsKey("code");
    }

    private static <T extends Throwable> T causeOf(Throwable error, Class<T> type) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    /** The JSON path of a parser's complaint, as the API's field names ({@code tasks[0].retry.max_attempts}). */
    static final class JsonPaths {

        private JsonPaths() {
        }

        static String of(JacksonException error) {
            StringBuilder path = new StringBuilder();
            for (JacksonException.Reference reference : error.getPath()) {
                if (reference.getIndex() >= 0) {
                    path.append('[').append(reference.getIndex()).append(']');
                } else if (reference.getPropertyName() != null) {
                    String name = reference.getPropertyName();
                    path.append(path.isEmpty() ? "" : ".").append(name.length() <= 64 ? name : name.substring(0, 64) + "…");
                }
            }
            return path.isEmpty() ? "body" : path.toString();
        }

        /** What is wrong, in general terms; never the value. */
        static String complaint(JacksonException error) {
            if (error instanceof PropertyBindingException) {
                return "is not a known field";
            }
            if (error instanceof MismatchedInputException mismatch && mismatch.getTargetType() != null) {
                Class<?> type = mismatch.getTargetType();
                if (type == String.class) {
                    return "must be a string";
                }
                if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
                    return "must be an integer";
                }
                if (type == Double.class || type == double.class || type == Float.class || type == float.class) {
                    return "must be a number";
                }
                if (type == Boolean.class || type == boolean.class) {
                    return "must be true or false";
                }
                if (Collection.class.isAssignableFrom(type)) {
                    return "must be an array";
                }
                return "must be an object";
            }
            return "is not readable here";
        }
    }
}
