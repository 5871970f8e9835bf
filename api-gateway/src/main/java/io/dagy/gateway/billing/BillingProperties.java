package io.dagy.gateway.billing;

import io.dagy.contracts.billing.Plan;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.util.Map;

/**
 * Billing with Stripe (docs/billing.md). Billing is on when {@code STRIPE_SECRET_KEY} is set: plan limits are
 * enforced, Checkout and the customer portal work and usage is reported. The webhook needs
 * {@code STRIPE_WEBHOOK_SECRET} (unset, it refuses every delivery).
 *
 * @param stripeApiBase  {@code DAGY_STRIPE_API_BASE}: where stripe-java sends requests; blank is Stripe's own
 * @param returnUrl      where Checkout and the portal send the customer back to ({@code DAGY_BILLING_RETURN_URL})
 * @param pastDueGrace   how long a {@code past_due} organization keeps working before it is read-only
 * @param reportInterval how often each node looks for usage to report
 * @param reportSettle   how long after an hour ends its usage is reported (the usage projection's lag)
 */
@ConfigurationProperties("dagy.billing")
public record BillingProperties(String stripeSecretKey, String webhookSecret, String pricePro, String priceEnterprise,
                                String stripeApiBase, @DefaultValue("http://localhost:3000/billing") String returnUrl,
                                @DefaultValue("7d") Duration pastDueGrace, @DefaultValue("5m") Duration reportInterval,
                                @DefaultValue("10m") Duration reportSettle, @DefaultValue("dagy_runs") String meterRuns,
                                @DefaultValue("dagy_task_ms") String meterTaskMs, Map<String, Limits> plans) {

    /** The limits of a plan; {@code -1} is unlimited. */
    public record Limits(@DefaultValue("-1") long runsPerMonth, @DefaultValue("-1") long concurrentRuns,
                         @DefaultValue("-1") long taskSecondsPerMonth, @DefaultValue("-1") long members,
                         @DefaultValue("-1") long apiKeys) {
        static final Limits UNLIMITED = new Limits(-1, -1, -1, -1, -1);
    }

    public BillingProperties {
        plans = plans == null ? Map.of() : Map.copyOf(plans);
    }

    /** Whether billing is on: a Stripe secret key is configured. */
    public boolean enabled() {
        return stripeSecretKey != null && !stripeSecretKey.isBlank();
    }

    public Limits limitsOf(Plan plan) {
        return plans.getOrDefault(plan.code(), Limits.UNLIMITED);
    }

    /** The plan a Stripe price id stands for; a price that is neither configured price is {@link Plan#FREE}. */
    public Plan planOfPrice(String priceId) {
        if (priceId != null && priceId.equals(priceEnterprise)) {
            return Plan.ENTERPRISE;
        }
        if (priceId != null && priceId.equals(pricePro)) {
            return Plan.PRO;
        }
        return Plan.FREE;
    }

    /** The Stripe price of a paid plan, if configured. */
    public String priceOf(Plan plan) {
        return switch (plan) {
            case PRO -> pricePro;
            case ENTERPRISE -> priceEnterprise;
            case FREE -> null;
        };
    }

    /** Never prints the secrets. */
    @Override
    public String toString() {
        return "BillingProperties[enabled=" + enabled() + ", webhookSecret="
                + (webhookSecret == null || webhookSecret.isBlank() ? "unset" : "***") + ", pricePro=" + pricePro
                + ", priceEnterprise=" + priceEnterprise + ", plans=" + plans + "]";
    }
}
