package io.dagy.gateway.problem;

import io.dagy.contracts.ErrorCode;
import org.springframework.http.HttpStatusCode;

/**
 * An error with a known status and code, for code outside controllers (filters) that must answer with a problem.
 * Inside controllers, business errors arrive as command exceptions and are mapped by the advice.
 */
public class ProblemException extends RuntimeException {

    private final HttpStatusCode status;
    private final ErrorCode code;

    public ProblemException(HttpStatusCode status, ErrorCode code, String detail) {
        super(detail);
        this.status = status;
        this.code = code;
    }

    public HttpStatusCode status() {
        return status;
    }

    public ErrorCode code() {
        return code;
    }
}
