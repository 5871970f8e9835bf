package io.dagy.gateway.billing;

import com.stripe.exception.EventDataObjectDeserializationException;
import com.stripe.model.Event;
import com.stripe.model.Invoice;
import com.stripe.model.StripeObject;
import com.stripe.model.Subscription;
import com.stripe.model.SubscriptionItem;
import com.stripe.model.checkout.Session;
import io.dagy.contracts.billing.Plan;
import io.dagy.contracts.billing.SubscriptionCommands.CompleteCheckout;
import io.dagy.contracts.billing.SubscriptionCommands.RecordInvoice;
import io.dagy.contracts.billing.SubscriptionCommands.RecordSubscription;
import io.dagy.contracts.billing.SubscriptionStatus;
import io.dagy.contracts.identity.OrgId;
import io.dagy.projection.billing.SubscriptionDirectory;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns a verified Stripe event into a command on the organization's subscription. The organization comes from what
 * Dagy put into Stripe at checkout: the session's {@code client_reference_id}, the subscription's (and so its
 * invoices') metadata {@value #ORG_KEY}; failing those, the customer's organization from the read model.
 */
final class StripeEventCommands {

    /** The metadata key naming the organization on Stripe's objects. */
    static final String ORG_KEY = "dagy_org";

    static final Set<String> HANDLED = Set.of("checkout.session.completed", "customer.subscription.created",
            "customer.subscription.updated", "customer.subscription.deleted", "invoice.paid", "invoice.payment_failed");

    /** A handled type, but nothing for Dagy in it (no organization of ours, a one-off invoice). */
    record Unmatched(String reason) {
    }

    private final BillingProperties properties;
    private final SubscriptionDirectory directory;

    StripeEventCommands(BillingProperties properties, SubscriptionDirectory directory) {
        this.properties = properties;
        this.directory = directory;
    }

    /** The command for a handled type, or {@link Unmatched}. */
    Object commandOf(Event event) {
        StripeObject object;
        try {
            object = event.getDataObjectDeserializer().deserializeUnsafe();
        } catch (EventDataObjectDeserializationException unreadable) {
            return new Unmatched("object not readable");
        }
        Instant created = Instant.ofEpochSecond(event.getCreated());
        try {
            return commandFor(event, object, created);
        } catch (ClassCastException wrongObject) {
            return new Unmatched("object of another type");
        }
    }

    private Object commandFor(Event event, StripeObject object, Instant created) {
        return switch (event.getType()) {
            case "checkout.session.completed" -> checkout(event, (Session) object, created);
            case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted" ->
                    subscription(event, (Subscription) object, created);
            case "invoice.paid", "invoice.payment_failed" -> invoice(event, (Invoice) object, created);
            default -> new Unmatched("type not handled");
        };
    }

    private Object checkout(Event event, Session session, Instant created) {
        Optional<OrgId> org = org(session.getClientReferenceId())
                .or(() -> org(metadata(session.getMetadata())))
                .or(() -> customerOrg(session.getCustomer()));
        if (org.isEmpty() || session.getCustomer() == null) {
            return new Unmatched("no organization");
        }
        return new CompleteCheckout(org.get(), event.getId(), created, session.getCustomer(), session.getSubscription());
    }

    private Object subscription(Event event, Subscription subscription, Instant created) {
        Optional<OrgId> org = org(metadata(subscription.getMetadata())).or(() -> customerOrg(subscription.getCustomer()));
        if (org.isEmpty()) {
            return new Unmatched("no organization");
        }
        SubscriptionItem item = subscription.getItems() == null || subscription.getItems().getData() == null
                || subscription.getItems().getData().isEmpty() ? null : subscription.getItems().getData().get(0);
        Plan plan = properties.planOfPrice(item == null || item.getPrice() == null ? null : item.getPrice().getId());
        SubscriptionStatus status = SubscriptionStatus.ofStripe(subscription.getStatus());
        if (event.getType().equals("customer.subscription.deleted") && !status.ended()) {
            status = SubscriptionStatus.CANCELED;
        }
        return new RecordSubscription(org.get(), event.getId(), event.getType(), created, subscription.getId(),
                subscription.getCustomer(), plan, status, instant(item == null ? null : item.getCurrentPeriodStart()),
                instant(item == null ? null : item.getCurrentPeriodEnd()),
                Boolean.TRUE.equals(subscription.getCancelAtPeriodEnd()));
    }

    private Object invoice(Event event, Invoice invoice, Instant created) {
        var details = invoice.getParent() == null ? null : invoice.getParent().getSubscriptionDetails();
        if (details == null || details.getSubscription() == null) {
            return new Unmatched("not a subscription's invoice");
        }
        Optional<OrgId> org = org(metadata(details.getMetadata())).or(() -> customerOrg(invoice.getCustomer()));
        if (org.isEmpty()) {
            return new Unmatched("no organization");
        }
        return new RecordInvoice(org.get(), event.getId(), created, details.getSubscription(), invoice.getCustomer(),
                event.getType().equals("invoice.paid"));
    }

    private static String metadata(Map<String, String> metadata) {
        return metadata == null ? null : metadata.get(ORG_KEY);
    }

    private static Optional<OrgId> org(String value) {
        return OrgId.isValid(value) ? Optional.of(new OrgId(value)) : Optional.empty();
    }

    private Optional<OrgId> customerOrg(String customerId) {
        return customerId == null ? Optional.empty() : directory.organizationOf(customerId);
    }

    private static Instant instant(Long epochSeconds) {
        return epochSeconds == null ? null : Instant.ofEpochSecond(epochSeconds);
    }
}
