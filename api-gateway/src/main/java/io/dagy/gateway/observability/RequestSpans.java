package io.dagy.gateway.observability;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.MDC;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerMapping;

import java.io.IOException;
import java.util.Collections;
import java.util.Map;

/**
 * A server span per REST request, named by method and route ({@code POST /v1/deployments/{name}/runs}), the parent of
 * the commands the request sends. A {@code traceparent} header from the caller makes it part of the caller's trace.
 * Its trace id goes into the logging context for the request's lines.
 */
final class RequestSpans extends OncePerRequestFilter {

    private static final TextMapGetter<HttpServletRequest> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpServletRequest request) {
            return Collections.list(request.getHeaderNames());
        }

        @Override
        public String get(HttpServletRequest request, String key) {
            return request == null ? null : request.getHeader(key);
        }
    };

    private final OpenTelemetry openTelemetry;
    private final Tracer tracer;

    RequestSpans(OpenTelemetry openTelemetry) {
        this.openTelemetry = openTelemetry;
        this.tracer = openTelemetry.getTracer("io.dagy.gateway");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Context parent = openTelemetry.getPropagators().getTextMapPropagator().extract(Context.root(), request, HEADERS);
        Span span = tracer.spanBuilder(request.getMethod()).setParent(parent).setSpanKind(SpanKind.SERVER)
                .setAttribute(AttributeKey.stringKey("http.request.method"), request.getMethod())
                .setAttribute(AttributeKey.stringKey("url.path"), request.getRequestURI())
                .startSpan();
        Map<String, String> previous = MDC.getCopyOfContextMap();
        try (Scope ignored = span.makeCurrent()) {
            LogContext.traceFields().forEach(MDC::put);
            chain.doFilter(request, response);
        } catch (IOException | ServletException | RuntimeException e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR);
            throw e;
        } finally {
            Object route = request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
            if (route != null) {
                span.updateName(request.getMethod() + " " + route);
                span.setAttribute(AttributeKey.stringKey("http.route"), route.toString());
            }
            span.setAttribute(AttributeKey.longKey("http.response.status_code"), (long) response.getStatus());
            if (response.getStatus() >= 500) {
                span.setStatus(StatusCode.ERROR);
            }
            span.end();
            if (previous == null) {
                MDC.clear();
            } else {
                MDC.setContextMap(previous);
            }
        }
    }
}
