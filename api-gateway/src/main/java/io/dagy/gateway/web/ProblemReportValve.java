package io.dagy.gateway.web;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.Problems;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.apache.tomcat.util.res.StringManager;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tomcat's error report, as a problem: the host's replacement for {@link ErrorReportValve}, which answers the errors
 * Tomcat detects before a request reaches Spring (a request line or header it cannot parse, an encoded slash or
 * {@code %00} in the path, headers over the size limit) with an HTML page. Errors the application handled have a body
 * already and are left alone. Request headers too large become 431, which Tomcat reports as a plain 400; Tomcat's 501
 * (for {@code CONNECT}, or a transfer coding it does not know) becomes 400, because it is the client's doing and Dagy
 * keeps 5xx for its own failures (as Spring answers an unknown method with 405).
 */
public final class ProblemReportValve extends ErrorReportValve {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ProblemReportValve.class);

    /** Tomcat's message for request headers over {@code maxHttpRequestHeaderSize}, in its own words. */
    private static final String HEADERS_TOO_LARGE = StringManager.getManager("org.apache.coyote.http11")
            .getString("iib.requestheadertoolarge.error");

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Public, with no arguments: Tomcat instantiates the host's error report valve by its class name. */
    public ProblemReportValve() {
        setShowReport(false);
        setShowServerInfo(false);
    }

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        boolean notImplemented = false;
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        AtomicBoolean ioAllowed = new AtomicBoolean(true);
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
        if (!ioAllowed.get()) {
            return;
        }
        if (status == HttpStatus.BAD_REQUEST.value() && throwable != null && HEADERS_TOO_LARGE.equals(throwable.getMessage())) {
            status = HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.value();
            response.setStatus(status);
        } else if (status == HttpStatus.NOT_IMPLEMENTED.value()) {
            // Tomcat's answer to CONNECT or a transfer coding it does not know: the client's doing, not a failure here
            status = HttpStatus.BAD_REQUEST.value();
            response.setStatus(status);
            notImplemented = true;
        }
        try {
            response.setContentType("application/problem+json");
            response.setCharacterEncoding("UTF-8");
            PrintWriter writer = response.getReporter();
            if (writer != null) {
                writer.write(JSON.writeValueAsString(problem(status, notImplemented)));
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException e) {
            log.debug("Could not write the error report", e);
        }
    }

    private static Map<String, Object> problem(int status, boolean notImplemented) {
        HttpStatus known = HttpStatus.resolve(status);
        ErrorCode code;
        String detail;
        if (status == HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.value()) {
            code = ErrorCode.HEADERS_TOO_LARGE;
            detail = "The request's headers are larger than the server accepts.";
        } else if (notImplemented) {
            code = ErrorCode.MALFORMED_REQUEST;
            detail = "The request uses a method or transfer coding this server does not implement.";
        } else if (status == HttpStatus.BAD_REQUEST.value()) {
            code = ErrorCode.MALFORMED_REQUEST;
            detail = "The request line or headers could not be read (for example an encoded '/', '\\' or NUL in the "
                    + "path, or a control character in a header).";
        } else {
            code = known == null ? (status < 500 ? ErrorCode.BAD_REQUEST : ErrorCode.INTERNAL_ERROR)
                    : Problems.codeFor(known);
            detail = known == null ? "The request could not be served." : known.getReasonPhrase() + ".";
        }
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", Problems.typeOf(code).toString());
        problem.put("title", known == null ? "Error" : known.getReasonPhrase());
        problem.put("status", status);
        problem.put("detail", detail);
        problem.put("code", code.code());
        if (status >= 500) {
            String incident = UUID.randomUUID().toString();
            log.error("Unexpected error reported by the container, incident {}", incident);
            problem.put("detail", "An unexpected error occurred. Quote incident " + incident + " when reporting it.");
            problem.put("incident", incident);
        }
        return problem;
    }
}
