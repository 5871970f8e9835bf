package io.dagy.gateway.problem;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.ErrorCode;
import org.springframework.http.HttpStatusCode;

import java.util.List;

/**
 * An error with a known status and code (and the fields at fault, if any), for code outside controllers (filters) and
 * for the request checks controllers call. Business errors arrive as command exceptions and are mapped by the advice.
 */
public class ProblemException extends RuntimeException {

    /**
     * The request attribute under which a filter leaves its refusal before {@code sendError}, so the error page
     * answers with it without the filter throwing (a thrown exception is logged with its stack by the container).
     */
    public static final String ATTRIBUTE = ProblemException.class.getName();

    private final HttpStatusCode status;
    private final ErrorCode code;
    private final List<FieldError> errors;
    private final java.util.Map<String, Object> properties = new java.util.LinkedHashMap<>();

    public ProblemException(HttpStatusCode status, ErrorCode code, String detail) {
        this(status, code, detail, List.of());
    }

    public ProblemException(HttpStatusCode status, ErrorCode code, String detail, List<FieldError> errors) {
        super(detail);
        this.status = status;
        this.code = code;
        this.errors = List.copyOf(errors);
    }

    /** A business error, with the status its code maps to and its field errors. */
    public static ProblemException of(BusinessError error) {
        return new ProblemException(Problems.statusOf(error.code()), error.code(), error.message(), error.errors());
    }

    public static ProblemException of(ErrorCode code, String detail) {
        return of(BusinessError.of(code, detail));
    }

    /** A 400 naming one invalid field. */
    public static ProblemException invalid(String field, String message) {
        return of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The request is invalid.",
                List.of(new FieldError(field, message))));
    }

    public BusinessError error() {
        return new BusinessError(code, getMessage(), errors);
    }

    /** A 400 {@code validation_failed} naming the fields at fault. */
    public static ProblemException invalid(String detail, List<FieldError> errors) {
        return new ProblemException(Problems.statusOf(ErrorCode.VALIDATION_FAILED), ErrorCode.VALIDATION_FAILED, detail,
                errors);
    }

    public HttpStatusCode status() {
        return status;
    }

    public ErrorCode code() {
        return code;
    }

    public List<FieldError> errors() {
        return errors;
    }

    /** Adds a property to the problem's body (e.g. the {@code limit} a refusal hit); returns this refusal. */
    public ProblemException with(String name, Object value) {
        properties.put(name, value);
        return this;
    }

    /** The extra properties of the problem's body, in the order added. */
    public java.util.Map<String, Object> properties() {
        return java.util.Collections.unmodifiableMap(properties);
    }
}
