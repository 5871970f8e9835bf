package io.dagy.gateway.observability;

import io.dagy.eventstore.events.DynamoEventStorageEngine;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import org.axonframework.commandhandling.CommandBus;
import org.axonframework.config.ConfigurerModule;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.micrometer.GlobalMetricRegistry;
import org.axonframework.micrometer.MetricsConfigurerModule;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.time.Clock;

/**
 * Meters (docs/operations.md, "Metrics"): Axon's own (command bus, event store, every processor: counts, timers,
 * capacity, latency), Dagy's runs and task attempts ({@link DagyMeters}), DynamoDB requests ({@link DynamoDbMeter}),
 * deadline lateness ({@link DeadlineLag}), and what a poller reads every 30 s: queue depths ({@link QueueDepth}) and
 * processor lag ({@link ProcessorLag}). Axon's Spring Boot auto-configuration of its meters is excluded
 * (application.yml): it is ordered after Boot 3's registry configuration, by names Boot 4 no longer has, and could
 * make a registry of its own before Boot's; here it gets Boot's registry.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(ObservabilityProperties.class)
public class MetricsConfiguration {

    @Bean
    DagyMeters dagyMeters(MeterRegistry registry) {
        return new DagyMeters(registry);
    }

    @Bean
    DynamoDbMeter dynamoDbMeter(MeterRegistry registry) {
        return new DynamoDbMeter(registry);
    }

    /** Axon's meters of its buses and processors, tagged by processor and payload type (dimensional). */
    @Bean
    GlobalMetricRegistry axonMetricRegistry(MeterRegistry registry) {
        return new GlobalMetricRegistry(registry);
    }

    @Bean
    MetricsConfigurerModule axonMetrics(GlobalMetricRegistry axonMetricRegistry) {
        return new MetricsConfigurerModule(axonMetricRegistry, true);
    }

    /**
     * No meter computes percentiles on the node. Axon's handling timers did (an HdrHistogram per timer, updated with
     * each message of each processor: about 3% of a busy node's CPU), and a percentile computed on one node cannot be
     * aggregated over several; counts, sums and maxima can, and Dagy's own timers publish buckets (decision 99).
     */
    @Bean
    MeterFilter noPercentilesOnTheNode() {
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                return DistributionStatisticConfig.builder().percentiles(new double[0]).build().merge(config);
            }
        };
    }

    @Bean
    LogContext logContext() {
        return new LogContext();
    }

    /** The log context on every event processor's handlers (sagas included). */
    @Bean
    ConfigurerModule logContextOnProcessors(LogContext logContext) {
        return configurer -> configurer.eventProcessing()
                .registerDefaultHandlerInterceptor((config, processor) -> logContext);
    }

    @Bean(destroyMethod = "stop")
    MetricsPoller metricsPoller(ObjectProvider<EventProcessingConfiguration> processing, EventStorageEngine engine,
                                TokenStore tokenStore, DynamoDbClient dynamoDb, SqsClient sqs, DagyResources resources,
                                MeterRegistry registry) {
        QueueDepth queues = new QueueDepth(sqs, resources.eventsQueueUrl(), registry);
        ProcessorLag lag = engine instanceof DynamoEventStorageEngine dynamo && tokenStore instanceof DynamoTokenStore tokens
                ? new ProcessorLag(processing.getObject(), dynamo, tokens, dynamoDb, resources.table(DagyTable.EVENTS),
                registry, Clock.systemUTC())
                : null;
        return new MetricsPoller(queues, lag);
    }

    /**
     * Once the application is ready: the poller starts, and the log context and deadline lateness go on the command
     * bus's and the deadline manager's handlers (both exist only once Axon is configured).
     */
    @EventListener(ApplicationReadyEvent.class)
    void start(ApplicationReadyEvent ready) {
        var context = ready.getApplicationContext();
        LogContext logContext = context.getBean(LogContext.class);
        context.getBean(CommandBus.class).registerHandlerInterceptor(logContext);
        DeadlineManager deadlines = context.getBean(DeadlineManager.class);
        deadlines.registerHandlerInterceptor(logContext);
        deadlines.registerHandlerInterceptor(new DeadlineLag(context.getBean(MeterRegistry.class),
                context.getBeanProvider(Clock.class).getIfUnique(Clock::systemUTC)));
        context.getBean(MetricsPoller.class).start();
    }
}
