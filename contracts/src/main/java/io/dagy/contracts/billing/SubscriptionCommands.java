package io.dagy.contracts.billing;

import io.dagy.contracts.AggregateCommand;
import io.dagy.contracts.identity.OrgId;

import java.time.Instant;

/**
 * Commands on an organization's subscription, one aggregate per organization ({@code subscription:<org>}). Each comes
 * from one Stripe webhook delivery and names the Stripe event ({@code stripeEventId}) and the time Stripe created it
 * ({@code stripeCreated}): the aggregate orders deliveries by that time, never by arrival (docs/billing.md, "Ordering").
 */
public final class SubscriptionCommands {

    private SubscriptionCommands() {
    }

    /** The aggregate identifier of an organization's subscription. */
    public static String aggregateId(OrgId org) {
        return "subscription:" + org.value();
    }

    /** {@code checkout.session.completed}: the organization has a Stripe customer and (usually) a subscription. */
    public record CompleteCheckout(OrgId organization, String stripeEventId, Instant stripeCreated, String customerId,
                                   String subscriptionId) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return aggregateId(organization);
        }
    }

    /**
     * {@code customer.subscription.created}, {@code .updated} or {@code .deleted}: the subscription as Stripe sent it.
     * {@code plan} is already resolved from the subscription's price ({@code STRIPE_PRICE_PRO},
     * {@code STRIPE_PRICE_ENTERPRISE}).
     */
    public record RecordSubscription(OrgId organization, String stripeEventId, String stripeEventType,
                                     Instant stripeCreated, String subscriptionId, String customerId, Plan plan,
                                     SubscriptionStatus status, Instant periodStart, Instant periodEnd,
                                     boolean cancelAtPeriodEnd) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return aggregateId(organization);
        }
    }

    /** {@code invoice.paid} ({@code paid}) or {@code invoice.payment_failed} for an invoice of a subscription. */
    public record RecordInvoice(OrgId organization, String stripeEventId, Instant stripeCreated, String subscriptionId,
                                String customerId, boolean paid) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return aggregateId(organization);
        }
    }
}
