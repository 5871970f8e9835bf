package io.dagy.gateway.problem;

import io.dagy.contracts.ErrorCode;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.net.URI;
import java.util.UUID;

/**
 * The container's error page. It answers for errors that happen outside Spring MVC, above all exceptions thrown by
 * servlet filters (security, rate limits) and refusals filters leave as a request attribute, so those too are problem
 * details with a stable code. Asked for directly ({@code GET /error}), it is a route like any other that does not
 * exist.
 */
@RestController
class ProblemErrorController implements ErrorController {

    private static final Logger log = LoggerFactory.getLogger(ProblemErrorController.class);

    @RequestMapping("${server.error.path:${error.path:/error}}")
    ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
        if (request.getDispatcherType() != DispatcherType.ERROR) {
            ProblemDetail problem = Problems.of(HttpStatus.NOT_FOUND, ErrorCode.ROUTE_NOT_FOUND,
                    "No endpoint " + request.getMethod() + " " + request.getRequestURI() + ".");
            problem.setInstance(instance(request.getRequestURI()));
            return ResponseEntity.status(HttpStatus.NOT_FOUND).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
        }
        Object exception = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
        if (!(exception instanceof ProblemException) && request.getAttribute(ProblemException.ATTRIBUTE) != null) {
            exception = request.getAttribute(ProblemException.ATTRIBUTE);
        }
        HttpStatusCode status = statusOf(request, exception);
        ProblemDetail problem;
        if (exception instanceof ProblemException known) {
            problem = Problems.of(known);
            status = known.status();
        } else if (status.is5xxServerError()) {
            String incident = UUID.randomUUID().toString();
            log.error("Unexpected error outside MVC, incident {}", incident,
                    exception instanceof Throwable t ? t : null);
            problem = Problems.of(status, ErrorCode.INTERNAL_ERROR,
                    "An unexpected error occurred. Quote incident " + incident + " when reporting it.");
            problem.setProperty("incident", incident);
        } else {
            HttpStatus known = HttpStatus.resolve(status.value());
            problem = Problems.of(status, Problems.codeFor(status), known == null ? "Client error" : known.getReasonPhrase());
        }
        Object uri = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
        if (uri != null) {
            problem.setInstance(instance(uri.toString()));
        }
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }

    private static HttpStatusCode statusOf(HttpServletRequest request, Object exception) {
        if (exception instanceof ProblemException known) {
            return known.status();
        }
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        if (code instanceof Integer value && value >= 400) {
            return HttpStatusCode.valueOf(value);
        }
        return HttpStatus.INTERNAL_SERVER_ERROR;
    }

    /** The request's path as the problem's instance; a path that is no valid URI reference is left out. */
    private static URI instance(String path) {
        try {
            return URI.create(path);
        } catch (IllegalArgumentException notAUri) {
            return null;
        }
    }
}
