package io.dagy.contracts.billing;

import io.dagy.contracts.identity.OrgId;

import java.time.Instant;

/** An organization's subscription as the read model holds it ({@code DAGY_SUBSCRIPTIONS}). */
public record SubscriptionView(OrgId organization, String subscriptionId, String customerId, Plan plan,
                               SubscriptionStatus status, Instant periodStart, Instant periodEnd,
                               boolean cancelAtPeriodEnd, Instant pastDueSince, Instant stripeVersion) {

    /** An organization that never subscribed. */
    public static SubscriptionView none(OrgId organization) {
        return new SubscriptionView(organization, null, null, Plan.FREE, SubscriptionStatus.NONE, null, null, false,
                null, null);
    }

    /** The plan whose limits apply: the subscription's while its status grants it, else free. */
    public Plan effectivePlan() {
        return status.grantsPlan() ? plan : Plan.FREE;
    }
}
