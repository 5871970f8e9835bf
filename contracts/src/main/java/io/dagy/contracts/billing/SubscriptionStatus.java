package io.dagy.contracts.billing;

import java.util.Locale;

/**
 * A Stripe subscription's status, as Stripe names it, plus {@link #NONE} for an organization that never subscribed.
 * Only {@link #ACTIVE}, {@link #TRIALING} and {@link #PAST_DUE} give the subscription's plan; every other status means
 * the free plan.
 */
public enum SubscriptionStatus {
    NONE, INCOMPLETE, INCOMPLETE_EXPIRED, TRIALING, ACTIVE, PAST_DUE, CANCELED, UNPAID, PAUSED;

    /** Stripe's name for it, e.g. {@code past_due}. */
    public String code() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The status Stripe names {@code code}; an unknown name (a status Stripe adds later) is {@link #INCOMPLETE}. */
    public static SubscriptionStatus ofStripe(String code) {
        if (code == null) {
            return INCOMPLETE;
        }
        try {
            return valueOf(code.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException unknown) {
            return INCOMPLETE;
        }
    }

    /** Whether the subscription's plan applies (paid, in trial, or in its payment grace). */
    public boolean grantsPlan() {
        return this == ACTIVE || this == TRIALING || this == PAST_DUE;
    }

    /** A subscription in this status never becomes live again: Stripe starts a new subscription instead. */
    public boolean ended() {
        return this == CANCELED || this == INCOMPLETE_EXPIRED;
    }
}
