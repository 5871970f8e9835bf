package io.dagy.gateway.observability;

import io.micrometer.cloudwatch2.CloudWatchMeterRegistry;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.mock.env.MockEnvironment;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchAsyncClient;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What leaves the node for a collector or CloudWatch, caught by local HTTP stand-ins (neither is reachable here): the
 * exact requests, not the services' answers.
 */
class ExportStandInTest {

    @Test
    void withAnOtlpEndpointSpansArePostedToItsTracesPathAsProtobuf() throws Exception {
        try (StandIn collector = new StandIn(200, "application/x-protobuf", "")) {
            ObservabilityProperties settings = new ObservabilityProperties(null, false, "Dagy", "api",
                    collector.uri().toString(), 1.0);
            OpenTelemetrySdk sdk = new TracingConfiguration().dagyOpenTelemetry(settings, new MockEnvironment(),
                    new DefaultListableBeanFactory().getBeanProvider(io.opentelemetry.sdk.trace.SpanProcessor.class));
            sdk.getTracer("test").spanBuilder("one-span").startSpan().end();
            sdk.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
            sdk.close();

            assertThat(collector.requests).isNotEmpty();
            StandIn.Request export = collector.requests.get(0);
            assertThat(export.path()).isEqualTo("/v1/traces");
            assertThat(export.contentType()).isEqualTo("application/x-protobuf");
            assertThat(export.text()).contains("one-span");
        }
    }

    @Test
    void withoutAnEndpointNothingIsExportedAndOtelsOwnVariablesAreHonoured() {
        ObservabilityProperties none = new ObservabilityProperties(null, false, "Dagy", "api", null, 1.0);
        assertThat(TracingConfiguration.otlpEndpoint(none, new MockEnvironment())).isNull();
        assertThat(TracingConfiguration.otlpEndpoint(none, new MockEnvironment()
                .withProperty("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"))).isEqualTo("http://collector:4318/v1/traces");
        assertThat(TracingConfiguration.otlpEndpoint(none, new MockEnvironment()
                .withProperty("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/custom"))).isEqualTo("http://collector:4318/custom");
    }

    @Test
    void cloudWatchGetsTheSeedsFlowExecutionTimeAndFailedRunsWithEnvironmentAndServiceOnly() throws Exception {
        try (StandIn cloudWatch = new StandIn(200, "text/xml",
                "<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><ResponseMetadata>"
                        + "<RequestId>1</RequestId></ResponseMetadata></PutMetricDataResponse>");
             CloudWatchAsyncClient client = CloudWatchAsyncClient.builder().endpointOverride(cloudWatch.uri())
                     .region(Region.US_EAST_1)
                     .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b")))
                     .build()) {
            MockClock clock = new MockClock();
            ObservabilityProperties settings = new ObservabilityProperties(null, true, "Dagy", "api", null, 1.0);
            CloudWatchMeterRegistry registry = CloudWatchMetrics.registry(settings, "production", client, clock);
            Timer.builder(DagyMeters.RUN_DURATION).tag("org", "acme").tag("deployment", "etl").tag("status", "SUCCEEDED")
                    .register(registry).record(Duration.ofSeconds(3));
            registry.counter(DagyMeters.RUNS_FINISHED, "org", "acme", "deployment", "etl", "status", "FAILED").increment();
            registry.counter(DagyMeters.RUNS_FINISHED, "org", "acme", "deployment", "other", "status", "FAILED").increment();
            registry.counter("jvm.threads.live").increment(); // not Dagy's: never sent

            clock.add(Duration.ofMinutes(1).plusMillis(1));
            registry.close(); // publishes the last step

            // the client speaks CloudWatch's CBOR protocol (smithy-rpcv2-cbor): read the PutMetricData bodies back
            com.fasterxml.jackson.databind.ObjectMapper cbor =
                    new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.cbor.CBORFactory());
            java.util.List<com.fasterxml.jackson.databind.JsonNode> data = new java.util.ArrayList<>();
            for (StandIn.Request request : cloudWatch.requests) {
                assertThat(request.path()).endsWith("/operation/PutMetricData");
                com.fasterxml.jackson.databind.JsonNode body = cbor.readTree(request.body());
                assertThat(body.get("Namespace").asText()).isEqualTo("Dagy");
                body.get("MetricData").forEach(data::add);
            }
            java.util.Map<String, com.fasterxml.jackson.databind.JsonNode> byName = new java.util.HashMap<>();
            data.forEach(datum -> byName.put(datum.get("MetricName").asText(), datum));
            assertThat(byName).containsKeys("FlowExecutionTime.avg", "FlowExecutionTime.count", "FailedRuns.count");
            assertThat(byName.keySet()).noneMatch(name -> name.startsWith("jvm"));
            // the two failed runs of two deployments are one FailedRuns series, with the seed's two dimensions only
            com.fasterxml.jackson.databind.JsonNode failed = byName.get("FailedRuns.count");
            assertThat(failed.get("Value").asDouble()).isEqualTo(2.0);
            java.util.Map<String, String> dimensions = new java.util.HashMap<>();
            failed.get("Dimensions").forEach(d -> dimensions.put(d.get("Name").asText(), d.get("Value").asText()));
            assertThat(dimensions).isEqualTo(java.util.Map.of("Environment", "production", "Service", "api"));
            assertThat(byName.get("FlowExecutionTime.count").get("Value").asDouble()).isEqualTo(1.0);
            assertThat(byName.get("FlowExecutionTime.avg").get("Unit").asText()).isEqualTo("Milliseconds");
        }
    }
}
