package io.dagy.gateway.billing;

import com.stripe.StripeClient;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunQueries.FindRun;
import io.dagy.contracts.run.RunQueries.RunDetails;
import io.dagy.gateway.security.Caller;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.projection.billing.SubscriptionDirectory;
import io.dagy.projection.billing.SubscriptionProjection;
import io.dagy.projection.usage.UsageAggregates;
import io.dagy.tables.DagyTable;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.axonframework.queryhandling.QueryGateway;
import org.axonframework.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Clock;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Billing with Stripe (docs/billing.md): webhook, subscription read model, plan limits, usage reports. */
@Configuration(proxyBeanMethods = false)
class BillingConfiguration {

    private static final Logger log = LoggerFactory.getLogger(BillingConfiguration.class);
    private static final Set<String> WRITES = Set.of("POST", "PUT", "DELETE", "PATCH");

    @Bean
    SubscriptionProjection subscriptionProjection(DynamoDbClient dynamoDb, DagyResources resources, Serializer serializer) {
        return new SubscriptionProjection(dynamoDb, resources.table(DagyTable.SUBSCRIPTIONS), serializer);
    }

    @Bean
    SubscriptionDirectory subscriptionDirectory(DynamoDbClient dynamoDb, DagyResources resources, Serializer serializer) {
        return new SubscriptionDirectory(dynamoDb, resources.table(DagyTable.SUBSCRIPTIONS), serializer);
    }

    /** Only with a secret key; stripe-java's own retries (with its idempotency keys) cover a lost answer. */
    @Bean
    StripeClient stripeClient(BillingProperties properties) {
        if (!properties.enabled()) {
            log.warn("STRIPE_SECRET_KEY is not set: billing is off (no plan limits, no Checkout, no usage reports; "
                    + "docs/billing.md)");
        }
        var builder = StripeClient.builder()
                .setApiKey(properties.enabled() ? properties.stripeSecretKey() : "sk_unset")
                .setMaxNetworkRetries(2);
        if (properties.stripeApiBase() != null && !properties.stripeApiBase().isBlank()) {
            builder.setApiBase(properties.stripeApiBase());
        }
        return builder.build();
    }

    @Bean
    StripeWebhook stripeWebhook(BillingProperties properties,
                                SubscriptionDirectory directory, CommandGateway commands, WebhookLedger ledger,
                                ObjectProvider<Clock> clock) {
        if (properties.webhookSecret() == null || properties.webhookSecret().isBlank()) {
            log.warn("STRIPE_WEBHOOK_SECRET is not set: POST /webhooks/stripe refuses every delivery");
        }
        return new StripeWebhook(properties.webhookSecret(), clock.getIfUnique(Clock::systemUTC), ledger,
                new StripeEventCommands(properties, directory), commands);
    }

    @Bean
    WebhookLedger stripeWebhookLedger(DynamoDbClient dynamoDb, DagyResources resources, ObjectProvider<Clock> clock) {
        return new WebhookLedger(dynamoDb, resources.table(DagyTable.SUBSCRIPTIONS), clock.getIfUnique(Clock::systemUTC));
    }

    @Bean
    MeterReports meterReports(DynamoDbClient dynamoDb, DagyResources resources) {
        return new MeterReports(dynamoDb, resources.table(DagyTable.SUBSCRIPTIONS));
    }

    @Bean
    BillingGuard billingGuard(BillingProperties properties, SubscriptionDirectory directory, UsageAggregates usage,
                              DynamoDbClient dynamoDb, DagyResources resources, QueryGateway queries,
                              ObjectProvider<Clock> clock) {
        Clock time = clock.getIfUnique(Clock::systemUTC);
        ConcurrencySlots.RunState runs = (OrgId org, String runId) -> {
            if (!RunId.isValid(runId)) {
                return Optional.of(true);
            }
            return queries.query(new FindRun(org, new RunId(runId)), ResponseTypes.optionalInstanceOf(RunDetails.class))
                    .join().map(details -> details.run().status().isTerminal());
        };
        return new BillingGuard(properties, directory, usage,
                new ConcurrencySlots(dynamoDb, resources.table(DagyTable.SUBSCRIPTIONS), time, runs), time);
    }

    @Bean
    UsageReporter usageReporter(BillingProperties properties, SubscriptionDirectory directory, UsageAggregates usage,
                                MeterReports reports, StripeClient stripe, ObjectProvider<Clock> clock) {
        return new UsageReporter(properties, directory, usage, reports, stripe, clock.getIfUnique(Clock::systemUTC));
    }

    /** Runs the usage reporter every {@code DAGY_BILLING_REPORT_INTERVAL} on every node (0 turns it off). */
    @Bean
    SmartLifecycle usageReportSchedule(BillingProperties properties, UsageReporter reporter) {
        return new SmartLifecycle() {
            private ScheduledExecutorService executor;

            @Override
            public void start() {
                long every = properties.reportInterval().toMillis();
                if (!properties.enabled() || every <= 0) {
                    return;
                }
                executor = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread thread = new Thread(r, "dagy-usage-reporter");
                    thread.setDaemon(true);
                    return thread;
                });
                executor.scheduleWithFixedDelay(() -> {
                    try {
                        reporter.reportDue();
                    } catch (RuntimeException failed) {
                        log.warn("Usage reporting run failed; the next run tries again", failed);
                    }
                }, every, every, TimeUnit.MILLISECONDS);
            }

            @Override
            public void stop() {
                if (executor != null) {
                    executor.shutdownNow();
                    executor = null;
                }
            }

            @Override
            public boolean isRunning() {
                return executor != null;
            }
        };
    }

    /**
     * An organization whose payment is overdue past its grace may only read: every write of the API but billing's
     * own (to pay) answers 402 {@code subscription_read_only}.
     */
    @Bean
    WebMvcConfigurer readOnlyWhenOverdue(BillingGuard guard) {
        return new WebMvcConfigurer() {
            @Override
            public void addInterceptors(InterceptorRegistry registry) {
                registry.addInterceptor(new HandlerInterceptor() {
                    @Override
                    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
                        if (guard.enabled() && WRITES.contains(request.getMethod())) {
                            Caller.of(request).ifPresent(caller -> guard.requireWritable(caller.org()));
                        }
                        return true;
                    }
                }).addPathPatterns("/v1/**").excludePathPatterns("/v1/billing/**", "/v1/workers/**");
            }
        };
    }
}
