package io.dagy.gateway.billing;

import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import com.stripe.net.RequestOptions;
import com.stripe.param.checkout.SessionCreateParams;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.billing.Plan;
import io.dagy.contracts.billing.SubscriptionView;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.Caller;
import io.dagy.projection.billing.SubscriptionDirectory;
import io.dagy.projection.identity.IdentityDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The organization's plan and usage against its limits; Stripe Checkout and the customer portal (owners). */
@RestController
class BillingController {

    private static final Logger log = LoggerFactory.getLogger(BillingController.class);

    private final BillingProperties properties;
    private final SubscriptionDirectory subscriptions;
    private final BillingGuard guard;
    private final MeterReports reports;
    private final ObjectProvider<StripeClient> stripe;
    private final Clock clock;
    private final IdentityDirectory identities;

    BillingController(BillingProperties properties, SubscriptionDirectory subscriptions, BillingGuard guard,
                      MeterReports reports, ObjectProvider<StripeClient> stripe, ObjectProvider<Clock> clock,
                      IdentityDirectory identities) {
        this.identities = identities;
        this.properties = properties;
        this.subscriptions = subscriptions;
        this.guard = guard;
        this.reports = reports;
        this.stripe = stripe;
        this.clock = clock.getIfUnique(Clock::systemUTC);
    }

    record LimitUsage(String name, long limit, long used) {
    }

    record Reporting(String lastSentHour, int pending, List<MeterReports.Report> failures) {
    }

    record BillingResponse(boolean billingEnabled, String plan, String subscribedPlan, String status,
                           Instant periodStart, Instant periodEnd, boolean cancelAtPeriodEnd, Instant pastDueSince,
                           Instant readOnlyFrom, List<LimitUsage> limits, Reporting reporting) {
    }

    @GetMapping("/v1/billing")
    BillingResponse billing(Caller caller) {
        SubscriptionView view = subscriptions.find(caller.org());
        Plan plan = properties.enabled() ? view.effectivePlan() : Plan.FREE;
        var limits = properties.limitsOf(plan);
        Map<String, Long> month = guard.monthTotals(caller.org());
        List<LimitUsage> usage = new ArrayList<>();
        usage.add(new LimitUsage("runs_per_month", limits.runsPerMonth(), month.getOrDefault("runs_started", 0L)));
        usage.add(new LimitUsage("task_seconds_per_month", limits.taskSecondsPerMonth(),
                BillingGuard.taskMillis(month) / 1000));
        usage.add(new LimitUsage("concurrent_runs", limits.concurrentRuns(), guard.concurrentRuns(caller.org())));
        usage.add(new LimitUsage("members", limits.members(), identities.members(caller.org()).size()));
        Instant now = clock.instant();
        usage.add(new LimitUsage("api_keys", limits.apiKeys(), identities.keys(caller.org()).stream()
                .filter(k -> !k.revoked() && (k.expiresAt() == null || k.expiresAt().isAfter(now))).count()));
        var recent = reports.since(caller.org(), UsageAggregatesHours.hourOf(clock.instant().minus(35, ChronoUnit.DAYS)));
        String lastSent = recent.values().stream().filter(r -> MeterReports.SENT.equals(r.state()))
                .map(MeterReports.Report::hour).max(String::compareTo).orElse(null);
        int pending = (int) recent.values().stream().filter(r -> !MeterReports.SENT.equals(r.state())).count();
        List<MeterReports.Report> failures = recent.values().stream()
                .filter(r -> MeterReports.FAILED.equals(r.state())).toList();
        return new BillingResponse(properties.enabled(), plan.code(), view.plan().code(), view.status().code(),
                view.periodStart(), view.periodEnd(), view.cancelAtPeriodEnd(), view.pastDueSince(),
                guard.readOnlySince(view).orElse(null), usage, new Reporting(lastSent, pending, failures));
    }

    record CheckoutRequest(String plan) {
    }

    record SessionResponse(String id, String url) {
    }

    /** A Stripe Checkout session for a paid plan; the client sends the customer to its {@code url}. */
    @PostMapping("/v1/billing/checkout")
    SessionResponse checkout(Caller caller, @RequestBody(required = false) CheckoutRequest request,
                             @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey) {
        StripeClient client = client();
        String planName = request == null || request.plan() == null ? "" : request.plan().toLowerCase(Locale.ROOT);
        Plan plan = switch (planName) {
            case "pro" -> Plan.PRO;
            case "enterprise" -> Plan.ENTERPRISE;
            default -> throw ProblemException.invalid("plan", "pro or enterprise");
        };
        String price = properties.priceOf(plan);
        if (price == null || price.isBlank()) {
            throw ProblemException.invalid("plan", "this installation has no Stripe price for " + plan.code());
        }
        SubscriptionView view = subscriptions.find(caller.org());
        String org = caller.org().value();
        var params = SessionCreateParams.builder()
                .setMode(SessionCreateParams.Mode.SUBSCRIPTION)
                .setClientReferenceId(org)
                .putMetadata(StripeEventCommands.ORG_KEY, org)
                .setSubscriptionData(SessionCreateParams.SubscriptionData.builder()
                        .putMetadata(StripeEventCommands.ORG_KEY, org).build())
                .addLineItem(SessionCreateParams.LineItem.builder().setPrice(price).setQuantity(1L).build())
                .setSuccessUrl(properties.returnUrl() + "?checkout=success")
                .setCancelUrl(properties.returnUrl() + "?checkout=cancelled");
        if (view.customerId() != null) {
            params.setCustomer(view.customerId());
        }
        try {
            var session = client.v1().checkout().sessions().create(params.build(), options(caller, idempotencyKey));
            return new SessionResponse(session.getId(), session.getUrl());
        } catch (StripeException failed) {
            throw unavailable(failed);
        }
    }

    /** A Stripe customer portal session, where the owner changes the plan, the card, or cancels. */
    @PostMapping("/v1/billing/portal")
    SessionResponse portal(Caller caller,
                           @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey) {
        StripeClient client = client();
        SubscriptionView view = subscriptions.find(caller.org());
        if (view.customerId() == null) {
            throw ProblemException.of(ErrorCode.NO_BILLING_ACCOUNT,
                    "The organization has no Stripe customer yet; subscribe through checkout first.");
        }
        try {
            var session = client.v1().billingPortal().sessions().create(
                    com.stripe.param.billingportal.SessionCreateParams.builder().setCustomer(view.customerId())
                            .setReturnUrl(properties.returnUrl()).build(), options(caller, idempotencyKey));
            return new SessionResponse(session.getId(), session.getUrl());
        } catch (StripeException failed) {
            throw unavailable(failed);
        }
    }

    private StripeClient client() {
        StripeClient client = properties.enabled() ? stripe.getIfAvailable() : null;
        if (client == null) {
            throw ProblemException.of(ErrorCode.BILLING_NOT_CONFIGURED,
                    "This installation has no Stripe account (STRIPE_SECRET_KEY), so it has no billing.");
        }
        return client;
    }

    private static RequestOptions options(Caller caller, String idempotencyKey) {
        var options = RequestOptions.builder();
        if (idempotencyKey != null && !idempotencyKey.isBlank()) {
            options.setIdempotencyKey("dagy-" + caller.org().value() + "-" + idempotencyKey);
        }
        return options.build();
    }

    private static ProblemException unavailable(StripeException failed) {
        log.warn("Stripe refused or did not answer: {} {}", failed.getStatusCode(), failed.getCode());
        return new ProblemException(HttpStatus.BAD_GATEWAY, ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
                "Stripe did not create the session; try again.");
    }

    /** Hour sort keys as the usage aggregates write them. */
    static final class UsageAggregatesHours {
        static String hourOf(Instant at) {
            return io.dagy.projection.usage.UsageAggregates.Granularity.HOUR.periodOf(at);
        }
    }
}
