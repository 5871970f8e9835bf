package io.dagy.gateway.observability;

import io.micrometer.cloudwatch2.CloudWatchConfig;
import io.micrometer.cloudwatch2.CloudWatchMeterRegistry;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import org.springframework.core.env.Environment;
import software.amazon.awssdk.services.cloudwatch.CloudWatchAsyncClient;


import java.util.Map;

/**
 * The aws profile's CloudWatch publication ({@code DAGY_CLOUDWATCH_ENABLED=true}): Dagy's own meters only (CloudWatch
 * bills per metric), every minute, in namespace {@code DAGY_CLOUDWATCH_NAMESPACE} ({@code Dagy}), with the seed's
 * dimensions {@code Environment} and {@code Service}. Two meters also go out under the seed's names with only those two
 * dimensions, for its alarms: {@code FlowExecutionTime} (runs' durations in milliseconds, published by Micrometer as
 * {@code FlowExecutionTime.avg}, {@code .max}, {@code .sum} and {@code .count}) and {@code FailedRuns} (runs that
 * ended {@code FAILED}, published as {@code FailedRuns.count}). Boot 4 has no CloudWatch auto-configuration, so the
 * registry is made here; Boot adds it to its composite registry beside Prometheus's. Its requests are tested against a
 * local stand-in ({@code ExportStandInTest}), not CloudWatch.
 */
@Configuration(proxyBeanMethods = false)
@Profile("aws")
@ConditionalOnProperty(name = "dagy.observability.cloudwatch", havingValue = "true")
class CloudWatchMetrics {

    @Bean(destroyMethod = "close")
    CloudWatchMeterRegistry cloudWatchMeterRegistry(ObservabilityProperties settings, Environment environment) {
        return registry(settings, environment.getProperty("dagy.environment", "local"), CloudWatchAsyncClient.create(),
                Clock.SYSTEM);
    }

    /** The registry with its filters, on the given client (a test's stand-in endpoint). */
    static CloudWatchMeterRegistry registry(ObservabilityProperties settings, String env, CloudWatchAsyncClient client,
                                            Clock clock) {
        Map<String, String> config = Map.of("cloudwatch.namespace", settings.namespace(), "cloudwatch.step", "PT1M");
        CloudWatchMeterRegistry registry = new CloudWatchMeterRegistry(config::get, clock, client);
        registry.config()
                .meterFilter(seedNames())
                .meterFilter(MeterFilter.denyUnless(id -> id.getName().startsWith("dagy.")
                        || id.getName().equals("FlowExecutionTime") || id.getName().equals("FailedRuns")))
                .meterFilter(MeterFilter.commonTags(Tags.of("Environment", env, "Service", settings.service())));
        return registry;
    }

    /** The seed's two metrics, under its names and with no dimension but the common two. */
    private static MeterFilter seedNames() {
        return new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                if (id.getName().equals(DagyMeters.RUN_DURATION)) {
                    return id.withName("FlowExecutionTime").replaceTags(Tags.empty());
                }
                if (id.getName().equals(DagyMeters.RUNS_FINISHED) && "FAILED".equals(id.getTag("status"))) {
                    return id.withName("FailedRuns").replaceTags(Tags.empty());
                }
                return id;
            }

            @Override
            public MeterFilterReply accept(Meter.Id id) {
                return MeterFilterReply.NEUTRAL;
            }
        };
    }

}
