package io.dagy.gateway.problem;

import io.dagy.contracts.BusinessError;
import java.util.List;

import io.dagy.contracts.ErrorCode;
import org.springframework.http.HttpStatusCode;

/**
 * An error with a known status and code, for code outside controllers (filters) that must answer with a problem.
 * Inside controllers, business errors arrive as command exceptions and are mapped by the advice.
 */
public class ProblemException extends RuntimeException {

    private final HttpStatusCode status;
    private final ErrorCode code;
    private final List<BusinessError.FieldError> errors;

    public ProblemException(HttpStatusCode status, ErrorCode code, String detail) {
        this(status, code, detail, List.of());
    }

    private ProblemException(HttpStatusCode status, ErrorCode code, String detail, List<BusinessError.FieldError> errors) {
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
                List.of(new BusinessError.FieldError(field, message))));
    }

    public BusinessError error() {
        return new BusinessError(code, getMessage(), errors);
    }

    public HttpStatusCode status() {
        return status;
    }

    public ErrorCode code() {
        return code;
    }
}
