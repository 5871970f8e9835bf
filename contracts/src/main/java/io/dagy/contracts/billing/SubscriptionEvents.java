package io.dagy.contracts.billing;

import io.dagy.contracts.identity.OrgId;

import java.time.Instant;

/** Events of subscriptions. Never rename or move these records; change a shape with a revision and an upcaster. */
public final class SubscriptionEvents {

    private SubscriptionEvents() {
    }

    /** A Stripe Checkout session completed: the organization's Stripe customer (and its subscription, if any). */
    public record CheckoutCompleted(OrgId organization, String customerId, String subscriptionId, String stripeEventId) {
    }

    /**
     * The organization's subscription as it now is, whole: every change carries the entire state, so a reader never
     * needs an earlier event. {@code stripeVersion} is the creation time of the Stripe event it came from (the
     * ordering clock); {@code pastDueSince} is set while the status is {@code past_due}.
     */
    public record SubscriptionChanged(OrgId organization, String subscriptionId, String customerId, Plan plan,
                                      SubscriptionStatus status, Instant periodStart, Instant periodEnd,
                                      boolean cancelAtPeriodEnd, Instant pastDueSince, Instant stripeVersion,
                                      String stripeEventId, String stripeEventType) {
        /** The plan whose limits apply: the subscription's while its status grants it, else free. */
        public Plan effectivePlan() {
            return status.grantsPlan() ? plan : Plan.FREE;
        }
    }

    /**
     * A subscription other than the organization's current one ended (a second checkout's subscription, cancelled):
     * it changes nothing but is remembered, so a late event of it can never take the organization over.
     */
    public record OtherSubscriptionEnded(OrgId organization, String subscriptionId, String stripeEventId) {
    }
}
