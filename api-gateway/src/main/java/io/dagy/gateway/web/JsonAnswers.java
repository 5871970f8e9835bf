package io.dagy.gateway.web;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;

import java.util.Collections;
import java.util.List;

/**
 * Every answer of the API is JSON, so a request whose {@code Accept} excludes JSON is refused (406) before its
 * handler runs. Spring would otherwise find out only when writing the answer, after the handler had published a DAG or
 * started a run: the client would be told "not acceptable" about a change that was made. An unreadable
 * {@code Accept} counts as absent, as in content negotiation. A handler that answers with Server-Sent Events (a run's
 * stream) also takes an {@code Accept} of {@code text/event-stream}, which is what browsers' {@code EventSource} sends.
 */
final class JsonAnswers implements HandlerInterceptor {

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler)
            throws HttpMediaTypeNotAcceptableException {
        if (request.getDispatcherType() == DispatcherType.ERROR || acceptsJson(request)
                || (streams(handler) && accepts(request, MediaType.TEXT_EVENT_STREAM))) {
            return true;
        }
        throw new HttpMediaTypeNotAcceptableException(List.of(MediaType.APPLICATION_JSON));
    }

    private static boolean streams(Object handler) {
        if (!(handler instanceof HandlerMethod method)) {
            return false;
        }
        GetMapping mapping = method.getMethodAnnotation(GetMapping.class);
        return mapping != null && List.of(mapping.produces()).contains(MediaType.TEXT_EVENT_STREAM_VALUE);
    }

    static boolean acceptsJson(HttpServletRequest request) {
        return accepts(request, MediaType.APPLICATION_JSON);
    }

    private static boolean accepts(HttpServletRequest request, MediaType wanted) {
        List<String> accepts = Collections.list(request.getHeaders(HttpHeaders.ACCEPT));
        if (accepts.isEmpty()) {
            return true;
        }
        List<MediaType> types;
        try {
            types = MediaType.parseMediaTypes(accepts);
        } catch (InvalidMediaTypeException unreadable) {
            return true;
        }
        return types.stream().anyMatch(type -> quality(type) > 0 && type.isCompatibleWith(wanted));
    }

    private static double quality(MediaType type) {
        try {
            return type.getQualityValue();
        } catch (IllegalArgumentException unreadable) {
            return 1.0;
        }
    }
}
