package io.dagy.command.billing;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.common.Tenancy;
import io.dagy.contracts.billing.Plan;
import io.dagy.contracts.billing.SubscriptionCommands.CompleteCheckout;
import io.dagy.contracts.billing.SubscriptionCommands.RecordInvoice;
import io.dagy.contracts.billing.SubscriptionCommands.RecordSubscription;
import io.dagy.contracts.billing.SubscriptionEvents.CheckoutCompleted;
import io.dagy.contracts.billing.SubscriptionEvents.OtherSubscriptionEnded;
import io.dagy.contracts.billing.SubscriptionEvents.SubscriptionChanged;
import io.dagy.contracts.billing.SubscriptionCommands;
import io.dagy.contracts.billing.SubscriptionStatus;
import io.dagy.contracts.identity.OrgId;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.spring.stereotype.Aggregate;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * An organization's Stripe subscription: plan, status, period, customer, cancel at period end, past due since. Every
 * command is one Stripe webhook delivery; Stripe delivers at least once and in any order, so (docs/billing.md):
 * <ul>
 *     <li>a Stripe event id handled before changes nothing (the last {@value #REMEMBERED_EVENTS} ids are kept; an older
 *     one is stale by the next rule anyway);</li>
 *     <li>deliveries are ordered by the Stripe event's creation time ({@code stripeVersion}): one older than the state
 *     changes nothing; one of the same second is applied (Stripe's clock has seconds, so a tie has no order to
 *     find);</li>
 *     <li>a subscription that ended ({@code canceled}, {@code incomplete_expired}) or was replaced never comes back;
 *     another subscription's event replaces the live one only if it is newer than the state and not an end (a
 *     customer who subscribed again); an older one changes nothing, an end is only remembered;</li>
 *     <li>a delivery that would leave the state as it is appends nothing.</li>
 * </ul>
 */
@Aggregate(commandTargetResolver = DagyCommandTargetResolver.BEAN_NAME)
public class Subscription {

    static final int REMEMBERED_EVENTS = 256;

    @AggregateIdentifier
    private String id;
    private OrgId organization;
    private String subscriptionId;
    private String customerId;
    private Plan plan = Plan.FREE;
    private SubscriptionStatus status = SubscriptionStatus.NONE;
    private Instant periodStart;
    private Instant periodEnd;
    private boolean cancelAtPeriodEnd;
    private Instant pastDueSince;
    private Instant version;
    private final Set<String> endedSubscriptions = new HashSet<>();
    private final Deque<String> recentEventOrder = new ArrayDeque<>();
    private final Set<String> recentEvents = new LinkedHashSet<>();

    protected Subscription() {
        // for Axon
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    void handle(CompleteCheckout command) {
        Tenancy.stamp(command.organization());
        if (recentEvents.contains(command.stripeEventId())) {
            return;
        }
        if (Objects.equals(command.customerId(), customerId)
                && (command.subscriptionId() == null || Objects.equals(command.subscriptionId(), subscriptionId))) {
            return;
        }
        apply(new CheckoutCompleted(command.organization(), command.customerId(), command.subscriptionId(),
                command.stripeEventId()));
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    void handle(RecordSubscription command) {
        Tenancy.stamp(command.organization());
        if (recentEvents.contains(command.stripeEventId()) || endedSubscriptions.contains(command.subscriptionId())) {
            return;
        }
        boolean current = command.subscriptionId().equals(subscriptionId);
        if (current && version != null && command.stripeCreated().isBefore(version)) {
            return; // an older state of this subscription, delivered late
        }
        if (!current && subscriptionId != null && status.grantsPlan() && !status.ended()) {
            if (command.status().ended()) {
                // another subscription ended; ours goes on. Remembered, so it cannot come back later.
                apply(new OtherSubscriptionEnded(command.organization(), command.subscriptionId(),
                        command.stripeEventId()));
                return;
            }
            if (version != null && command.stripeCreated().isBefore(version)) {
                return; // an older subscription's news, older than ours
            }
            // a newer subscription replaces the live one (whose later events then change nothing); see on(...) below
        }
        Instant since = command.status() == SubscriptionStatus.PAST_DUE
                ? (status == SubscriptionStatus.PAST_DUE && current && pastDueSince != null ? pastDueSince
                : command.stripeCreated())
                : null;
        if (current && command.status() == status && command.plan() == plan
                && Objects.equals(command.periodStart(), periodStart) && Objects.equals(command.periodEnd(), periodEnd)
                && command.cancelAtPeriodEnd() == cancelAtPeriodEnd
                && Objects.equals(command.customerId(), customerId)) {
            return; // the same state again (a re-sent or same-second event)
        }
        apply(new SubscriptionChanged(command.organization(), command.subscriptionId(),
                command.customerId() != null ? command.customerId() : customerId, command.plan(), command.status(),
                command.periodStart(), command.periodEnd(), command.cancelAtPeriodEnd(), since,
                command.stripeCreated(), command.stripeEventId(), command.stripeEventType()));
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    void handle(RecordInvoice command) {
        Tenancy.stamp(command.organization());
        if (recentEvents.contains(command.stripeEventId()) || subscriptionId == null
                || !command.subscriptionId().equals(subscriptionId) || status.ended()) {
            return; // an invoice of no subscription we follow: the subscription events will tell
        }
        if (version != null && command.stripeCreated().isBefore(version)) {
            return;
        }
        SubscriptionStatus next = status;
        Instant since = pastDueSince;
        if (command.paid() && (status == SubscriptionStatus.PAST_DUE || status == SubscriptionStatus.UNPAID)) {
            next = SubscriptionStatus.ACTIVE;
            since = null;
        } else if (!command.paid() && (status == SubscriptionStatus.ACTIVE || status == SubscriptionStatus.TRIALING)) {
            next = SubscriptionStatus.PAST_DUE;
            since = command.stripeCreated();
        }
        if (next == status) {
            return;
        }
        apply(new SubscriptionChanged(command.organization(), subscriptionId, customerId, plan, next, periodStart,
                periodEnd, cancelAtPeriodEnd, since, command.stripeCreated(), command.stripeEventId(),
                command.paid() ? "invoice.paid" : "invoice.payment_failed"));
    }

    @EventSourcingHandler
    void on(CheckoutCompleted event) {
        id = SubscriptionCommands.aggregateId(event.organization());
        organization = event.organization();
        customerId = event.customerId();
        if (subscriptionId == null && event.subscriptionId() != null) {
            subscriptionId = event.subscriptionId();
        }
        remember(event.stripeEventId());
    }

    @EventSourcingHandler
    void on(SubscriptionChanged event) {
        id = SubscriptionCommands.aggregateId(event.organization());
        organization = event.organization();
        if (subscriptionId != null && !subscriptionId.equals(event.subscriptionId())) {
            endedSubscriptions.add(subscriptionId); // replaced: it may only end now, and that changes nothing
        }
        subscriptionId = event.subscriptionId();
        customerId = event.customerId();
        plan = event.plan();
        status = event.status();
        periodStart = event.periodStart();
        periodEnd = event.periodEnd();
        cancelAtPeriodEnd = event.cancelAtPeriodEnd();
        pastDueSince = event.pastDueSince();
        version = event.stripeVersion();
        if (status.ended()) {
            endedSubscriptions.add(subscriptionId);
        }
        remember(event.stripeEventId());
    }

    @EventSourcingHandler
    void on(OtherSubscriptionEnded event) {
        endedSubscriptions.add(event.subscriptionId());
        remember(event.stripeEventId());
    }

    private void remember(String stripeEventId) {
        if (recentEvents.add(stripeEventId)) {
            recentEventOrder.addLast(stripeEventId);
            if (recentEventOrder.size() > REMEMBERED_EVENTS) {
                recentEvents.remove(recentEventOrder.removeFirst());
            }
        }
    }
}
