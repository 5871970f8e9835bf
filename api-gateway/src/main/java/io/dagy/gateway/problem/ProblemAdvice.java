package io.dagy.gateway.problem;

import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.BusinessError;
import io.dagy.eventstore.events.EventTooLargeException;
import org.axonframework.commandhandling.CommandExecutionException;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.axonframework.modelling.command.ConcurrencyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Every exception that reaches Spring MVC becomes an {@code application/problem+json} response with a stable code.
 * Errors outside MVC (servlet filters, the container) go through {@link ProblemErrorController}.
 */
@RestControllerAdvice
class ProblemAdvice extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemAdvice.class);

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex,
                                                                  HttpHeaders headers, HttpStatusCode status,
                                                                  WebRequest request) {
        // Never echo the parser's message: it can quote the body back. Say what is wrong in general terms.
        ProblemDetail problem = Problems.of(status, ErrorCode.MALFORMED_REQUEST,
                "The request body is not valid JSON or does not match the expected shape.");
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

    /** Adds the code to whatever problem Spring built for a standard MVC exception. */
    @Override
    protected ResponseEntity<Object> createResponseEntity(Object body, HttpHeaders headers, HttpStatusCode status,
                                                          WebRequest request) {
        if (body instanceof ProblemDetail problem && !hasCode(problem)) {
            Problems.withCode(problem, Problems.codeFor(status));
        }
        return super.createResponseEntity(body, headers, status, request);
    }

    @ExceptionHandler(ProblemException.class)
    ResponseEntity<ProblemDetail> known(ProblemException ex) {
        ProblemDetail problem = Problems.of(ex.error());
        problem.setStatus(ex.status().value());
        return ResponseEntity.status(ex.status()).body(problem);
    }

    /** A command refused by a business rule carries its error; anything else from a command is unexpected. */
    @ExceptionHandler(CommandExecutionException.class)
    ResponseEntity<ProblemDetail> refused(CommandExecutionException ex) {
        var error = ex.getDetails().filter(BusinessError.class::isInstance).map(BusinessError.class::cast);
        if (error.isEmpty()) {
            return unexpected(ex);
        }
        ProblemDetail problem = Problems.of(error.get());
        return ResponseEntity.status(problem.getStatus()).body(problem);
    }

    /**
     * Two writers appended to one aggregate at once and the command gateway's retries did not settle it: the client
     * may send the command again.
     */
    @ExceptionHandler({ConcurrencyException.class, AggregateStreamCreationException.class})
    ResponseEntity<ProblemDetail> conflict(RuntimeException ex) {
        return ResponseEntity.status(HttpStatus.CONFLICT).body(Problems.of(HttpStatus.CONFLICT,
                ErrorCode.CONCURRENT_MODIFICATION, "The resource was changed concurrently; send the request again."));
    }

    /** What the request would store does not fit DynamoDB even compressed (a DAG of thousands of large tasks). */
    @ExceptionHandler(EventTooLargeException.class)
    ResponseEntity<ProblemDetail> tooLarge(EventTooLargeException ex) {
        log.info("Refused a request whose events would not fit: {}", ex.getMessage());
        return ResponseEntity.status(HttpStatus.CONTENT_TOO_LARGE).body(Problems.of(HttpStatus.CONTENT_TOO_LARGE,
                ErrorCode.PAYLOAD_TOO_LARGE, "What this request would store does not fit DynamoDB, even compressed "
                        + "(at most 400 KB per event and 4 MB per request). Use fewer or smaller tasks, shorter ids or "
                        + "smaller params. Nothing was stored."));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception ex) {
        String incident = UUID.randomUUID().toString();
        log.error("Unexpected error, incident {}", incident, ex);
        ProblemDetail problem = Problems.of(HttpStatus.INTERNAL_SERVER_ERROR, ErrorCode.INTERNAL_ERROR,
                "An unexpected error occurred. Quote incident " + incident + " when reporting it.");
        problem.setProperty("incident", incident);
        return ResponseEntity.internalServerError().body(problem);
    }

    private static boolean hasCode(ProblemDetail problem) {
        return problem.getProperties() != null && problem.getProperties().containsKey("code");
    }
}
