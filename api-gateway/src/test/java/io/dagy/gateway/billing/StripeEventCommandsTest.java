package io.dagy.gateway.billing;

import com.stripe.model.Event;
import com.stripe.net.ApiResource;
import io.dagy.contracts.billing.Plan;
import io.dagy.contracts.billing.SubscriptionCommands.CompleteCheckout;
import io.dagy.contracts.billing.SubscriptionCommands.RecordInvoice;
import io.dagy.contracts.billing.SubscriptionCommands.RecordSubscription;
import io.dagy.contracts.billing.SubscriptionStatus;
import io.dagy.contracts.identity.OrgId;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static io.dagy.gateway.billing.StripeEvents.PRICE_ENTERPRISE;
import static io.dagy.gateway.billing.StripeEvents.PRICE_PRO;
import static io.dagy.gateway.billing.StripeEvents.event;
import static org.assertj.core.api.Assertions.assertThat;

/** Stripe's event objects, parsed by stripe-java, to commands: what each of the six types becomes. */
class StripeEventCommandsTest {

    private static final OrgId ACME = new OrgId("acme");
    private static final BillingProperties PROPERTIES = new BillingProperties("sk_test", StripeEvents.SECRET, PRICE_PRO,
            PRICE_ENTERPRISE, null, "http://localhost/billing", Duration.ofDays(7), Duration.ofMinutes(5),
            Duration.ofMinutes(10), "dagy_runs", "dagy_task_ms", Map.of());
    /** No read model: every event here names its organization itself. */
    private final StripeEventCommands commands = new StripeEventCommands(PROPERTIES, null);

    private Object commandOf(String json) {
        return commands.commandOf(ApiResource.GSON.fromJson(json, Event.class));
    }

    @Test
    void aSubscriptionUpdateCarriesPlanStatusPeriodAndCancellation() {
        Object command = commandOf(event("evt_1", "customer.subscription.updated", 1_764_000_000,
                StripeEvents.subscription("sub_1", "acme", "cus_1", PRICE_ENTERPRISE, "past_due", 1_763_000_000,
                        1_765_000_000, true)));

        assertThat(command).isEqualTo(new RecordSubscription(ACME, "evt_1", "customer.subscription.updated",
                Instant.ofEpochSecond(1_764_000_000), "sub_1", "cus_1", Plan.ENTERPRISE, SubscriptionStatus.PAST_DUE,
                Instant.ofEpochSecond(1_763_000_000), Instant.ofEpochSecond(1_765_000_000), true));
    }

    @Test
    void aDeletedSubscriptionIsCanceledAndAnUnknownPriceIsTheFreePlan() {
        var command = (RecordSubscription) commandOf(event("evt_2", "customer.subscription.deleted", 1_764_000_000,
                StripeEvents.subscription("sub_1", "acme", "cus_1", "price_other", "active", 1, 2, false)));

        assertThat(command.status()).isEqualTo(SubscriptionStatus.CANCELED);
        assertThat(command.plan()).isEqualTo(Plan.FREE);
    }

    @Test
    void invoicesNameTheirSubscriptionThroughTheirParent() {
        assertThat(commandOf(event("evt_3", "invoice.payment_failed", 1_764_000_000,
                StripeEvents.invoice("in_1", "acme", "cus_1", "sub_1"))))
                .isEqualTo(new RecordInvoice(ACME, "evt_3", Instant.ofEpochSecond(1_764_000_000), "sub_1", "cus_1", false));
        assertThat(((RecordInvoice) commandOf(event("evt_4", "invoice.paid", 1_764_000_000,
                StripeEvents.invoice("in_1", "acme", "cus_1", "sub_1")))).paid()).isTrue();
    }

    @Test
    void aCompletedCheckoutLinksCustomerAndSubscription() {
        assertThat(commandOf(event("evt_5", "checkout.session.completed", 1_764_000_000,
                StripeEvents.checkoutSession("cs_1", "acme", "cus_1", "sub_1"))))
                .isEqualTo(new CompleteCheckout(ACME, "evt_5", Instant.ofEpochSecond(1_764_000_000), "cus_1", "sub_1"));
    }

    @Test
    void anInvoiceOfNoSubscriptionIsUnmatched() {
        assertThat(commandOf(event("evt_6", "invoice.paid", 1_764_000_000,
                "{\"id\": \"in_2\", \"object\": \"invoice\", \"customer\": \"cus_1\"}")))
                .isInstanceOf(StripeEventCommands.Unmatched.class);
    }
}
