package io.dagy.gateway.observability;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.dagy.saga.backend.ContextCarrier;
import org.axonframework.messaging.correlation.CorrelationDataProvider;
import org.axonframework.tracing.SpanFactory;
import org.axonframework.tracing.opentelemetry.OpenTelemetrySpanFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;

/**
 * Traces (docs/operations.md, "Traces"): an OpenTelemetry SDK of this application's own (not the global one, so two
 * applications in one JVM keep their spans apart), a server span per REST request ({@link RequestSpans}), and Axon's
 * OpenTelemetry span factory on that SDK, from which Axon's auto-configuration builds the span factories of the command
 * bus, event processors, sagas, repositories and deadline manager; Axon carries the trace context in each message's
 * metadata ({@code traceparent}). Spans are exported over OTLP/HTTP when {@code DAGY_OTLP_ENDPOINT} (or
 * {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} / {@code OTEL_EXPORTER_OTLP_ENDPOINT}) is set, and go nowhere otherwise;
 * their trace ids still reach the logs and the workers. Other {@link SpanProcessor} beans (a test's in-memory
 * exporter) receive them too.
 */
@Configuration(proxyBeanMethods = false)
class TracingConfiguration {

    private static final Logger log = LoggerFactory.getLogger(TracingConfiguration.class);

    @Bean(destroyMethod = "close")
    OpenTelemetrySdk dagyOpenTelemetry(ObservabilityProperties settings, Environment environment,
                                       ObjectProvider<SpanProcessor> processors) {
        SdkTracerProviderBuilder tracing = SdkTracerProvider.builder()
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(settings.sampleRatio())))
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
                        AttributeKey.stringKey("service.name"), "dagy",
                        AttributeKey.stringKey("deployment.environment.name"),
                        environment.getProperty("dagy.environment", "local")))));
        String endpoint = otlpEndpoint(settings, environment);
        if (endpoint != null) {
            tracing.addSpanProcessor(BatchSpanProcessor.builder(
                    OtlpHttpSpanExporter.builder().setEndpoint(endpoint).build()).build());
            log.info("Traces are exported over OTLP to {}", endpoint);
        }
        processors.orderedStream().forEach(tracing::addSpanProcessor);
        return OpenTelemetrySdk.builder()
                .setTracerProvider(tracing.build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
    }

    /** The OTLP/HTTP traces endpoint, or null: Dagy's variable, else OpenTelemetry's own two. */
    static String otlpEndpoint(ObservabilityProperties settings, Environment environment) {
        String base = settings.otlpEndpoint();
        if (base == null || base.isBlank()) {
            String traces = environment.getProperty("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
            if (traces != null && !traces.isBlank()) {
                return traces.trim();
            }
            base = environment.getProperty("OTEL_EXPORTER_OTLP_ENDPOINT");
        }
        if (base == null || base.isBlank()) {
            return null;
        }
        base = base.trim();
        return base.endsWith("/v1/traces") ? base : base.replaceAll("/+$", "") + "/v1/traces";
    }

    /** Axon's spans on this application's SDK; Axon's auto-configuration derives every component's factory from it. */
    @Bean
    SpanFactory axonSpanFactory(OpenTelemetry openTelemetry) {
        return OpenTelemetrySpanFactory.builder()
                .tracer(openTelemetry.getTracer("AxonFramework-OpenTelemetry"))
                .contextPropagators(openTelemetry.getPropagators().getTextMapPropagator())
                .build();
    }

    /**
     * The trace context of the handler that creates a message goes into the message's metadata ({@code traceparent}),
     * as correlation data: events an aggregate applies and commands a saga or processor sends carry it, and stay
     * with the event in the store, so each processor's handling joins the trace of the request that caused it (Axon's
     * span factory reads it back). Absent when no span is recording. About 70 bytes of metadata per event.
     */
    @Bean
    CorrelationDataProvider traceCorrelation(OpenTelemetry openTelemetry) {
        var propagator = openTelemetry.getPropagators().getTextMapPropagator();
        return message -> {
            if (!io.opentelemetry.api.trace.Span.current().getSpanContext().isValid()) {
                return java.util.Map.of();
            }
            java.util.Map<String, String> carrier = new java.util.HashMap<>();
            propagator.inject(io.opentelemetry.context.Context.current(), carrier, (map, key, value) -> map.put(key, value));
            return carrier;
        };
    }

    /**
     * Work a backend hands to its own threads (a local task, a report sent in the background) keeps the trace and the
     * logging context of the dispatch, so the report's command is part of the run's trace and its lines carry the run.
     */
    @Bean
    ContextCarrier contextCarrier() {
        return task -> {
            Runnable traced = io.opentelemetry.context.Context.current().wrap(task);
            java.util.Map<String, String> logContext = org.slf4j.MDC.getCopyOfContextMap();
            return () -> {
                java.util.Map<String, String> previous = org.slf4j.MDC.getCopyOfContextMap();
                if (logContext != null) {
                    org.slf4j.MDC.setContextMap(logContext);
                }
                try {
                    traced.run();
                } finally {
                    if (previous == null) {
                        org.slf4j.MDC.clear();
                    } else {
                        org.slf4j.MDC.setContextMap(previous);
                    }
                }
            };
        };
    }

    /** The REST request's span, outside every other filter, so security and rate-limit refusals are traced too. */
    @Bean
    FilterRegistrationBean<RequestSpans> requestSpans(OpenTelemetry openTelemetry) {
        FilterRegistrationBean<RequestSpans> registration = new FilterRegistrationBean<>(new RequestSpans(openTelemetry));
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }
}
