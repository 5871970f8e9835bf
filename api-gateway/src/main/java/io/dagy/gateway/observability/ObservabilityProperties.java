package io.dagy.gateway.observability;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Metrics, traces and logs (docs/operations.md, "Observability").
 *
 * @param metricsToken  {@code DAGY_METRICS_TOKEN}: the bearer token the management endpoints require; unset, they are
 *                      anonymous in the local profile (loopback only) and refuse everyone in the aws profile
 * @param cloudwatch    {@code DAGY_CLOUDWATCH_ENABLED}: publish Dagy's meters to CloudWatch (aws profile only)
 * @param namespace     {@code DAGY_CLOUDWATCH_NAMESPACE}: the CloudWatch namespace ({@code Dagy}, as the seed's)
 * @param service       {@code DAGY_METRICS_SERVICE}: the {@code Service} dimension ({@code api})
 * @param otlpEndpoint  {@code DAGY_OTLP_ENDPOINT}: where spans are exported over OTLP/HTTP; unset, nothing is exported
 *                      (unless {@code OTEL_EXPORTER_OTLP_ENDPOINT} or {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} is set)
 * @param sampleRatio   {@code DAGY_TRACE_SAMPLE_RATIO}: share of new traces recorded (children follow their parent)
 */
@ConfigurationProperties("dagy.observability")
record ObservabilityProperties(String metricsToken,
                               @DefaultValue("false") boolean cloudwatch,
                               @DefaultValue("Dagy") String namespace,
                               @DefaultValue("api") String service,
                               String otlpEndpoint,
                               @DefaultValue("1.0") double sampleRatio) {

    boolean hasMetricsToken() {
        return metricsToken != null && !metricsToken.isBlank();
    }

    @Override
    public String toString() {
        return "ObservabilityProperties[metricsToken=" + (hasMetricsToken() ? "<set>" : "<unset>") + ", cloudwatch="
                + cloudwatch + ", namespace=" + namespace + ", service=" + service + ", otlpEndpoint=" + otlpEndpoint
                + ", sampleRatio=" + sampleRatio + "]";
    }
}
