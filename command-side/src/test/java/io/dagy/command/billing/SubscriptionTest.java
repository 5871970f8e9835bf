package io.dagy.command.billing;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.deployment.DeploymentIds;
import io.dagy.contracts.billing.Plan;
import io.dagy.contracts.billing.SubscriptionCommands.CompleteCheckout;
import io.dagy.contracts.billing.SubscriptionCommands.RecordInvoice;
import io.dagy.contracts.billing.SubscriptionCommands.RecordSubscription;
import io.dagy.contracts.billing.SubscriptionEvents.CheckoutCompleted;
import io.dagy.contracts.billing.SubscriptionEvents.OtherSubscriptionEnded;
import io.dagy.contracts.billing.SubscriptionEvents.SubscriptionChanged;
import io.dagy.contracts.billing.SubscriptionStatus;
import io.dagy.contracts.identity.OrgId;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static io.dagy.contracts.billing.SubscriptionStatus.ACTIVE;
import static io.dagy.contracts.billing.SubscriptionStatus.CANCELED;
import static io.dagy.contracts.billing.SubscriptionStatus.PAST_DUE;

class SubscriptionTest {

    private static final OrgId ACME = new OrgId("acme");
    private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
    private static final Instant END = Instant.parse("2026-12-01T00:00:00Z");

    private AggregateTestFixture<Subscription> fixture;

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(Subscription.class);
        fixture.registerCommandTargetResolver(new DagyCommandTargetResolver(new DeploymentIds(name -> false)));
    }

    private static RecordSubscription record(String eventId, long second, String sub, SubscriptionStatus status,
                                             Plan plan, boolean cancelAtEnd) {
        return new RecordSubscription(ACME, eventId, "customer.subscription.updated", T0.plusSeconds(second), sub,
                "cus_1", plan, status, T0, END, cancelAtEnd);
    }

    private static SubscriptionChanged changed(String eventId, long second, String sub, SubscriptionStatus status,
                                               Plan plan, boolean cancelAtEnd, Instant pastDueSince) {
        return new SubscriptionChanged(ACME, sub, "cus_1", plan, status, T0, END, cancelAtEnd, pastDueSince,
                T0.plusSeconds(second), eventId, "customer.subscription.updated");
    }

    @Test
    void aSubscriptionUpdateRecordsTheWholeState() {
        fixture.givenNoPriorActivity()
                .when(record("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false))
                .expectEvents(changed("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false, null));
    }

    @Test
    void theSameStripeEventDeliveredTwiceChangesNothing() {
        fixture.given(changed("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false, null))
                .when(record("evt_1", 10, "sub_1", ACTIVE, Plan.ENTERPRISE, true))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void anOlderUpdateArrivingAfterANewerOneChangesNothing() {
        fixture.given(changed("evt_2", 20, "sub_1", ACTIVE, Plan.ENTERPRISE, false, null))
                .when(record("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void aCancelledSubscriptionNeverComesBackByALateUpdate() {
        fixture.given(changed("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false, null),
                        changed("evt_3", 30, "sub_1", CANCELED, Plan.PRO, false, null))
                .when(record("evt_4", 30, "sub_1", ACTIVE, Plan.PRO, false))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void pastDueKeepsTheTimeItBeganAcrossLaterUpdates() {
        Instant since = T0.plusSeconds(20);
        fixture.given(changed("evt_2", 20, "sub_1", PAST_DUE, Plan.PRO, false, since))
                .when(record("evt_3", 40, "sub_1", PAST_DUE, Plan.PRO, true))
                .expectEvents(changed("evt_3", 40, "sub_1", PAST_DUE, Plan.PRO, true, since));
    }

    @Test
    void aFailedInvoicePutsAnActiveSubscriptionPastDueAndAPaidOneClearsIt() {
        fixture.given(changed("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false, null))
                .when(new RecordInvoice(ACME, "evt_inv", T0.plusSeconds(50), "sub_1", "cus_1", false))
                .expectEvents(new SubscriptionChanged(ACME, "sub_1", "cus_1", Plan.PRO, PAST_DUE, T0, END, false,
                        T0.plusSeconds(50), T0.plusSeconds(50), "evt_inv", "invoice.payment_failed"));
        fixture.given(changed("evt_1", 10, "sub_1", PAST_DUE, Plan.PRO, false, T0.plusSeconds(10)))
                .when(new RecordInvoice(ACME, "evt_paid", T0.plusSeconds(60), "sub_1", "cus_1", true))
                .expectEvents(new SubscriptionChanged(ACME, "sub_1", "cus_1", Plan.PRO, ACTIVE, T0, END, false,
                        null, T0.plusSeconds(60), "evt_paid", "invoice.paid"));
    }

    @Test
    void aStaleFailedInvoiceChangesNothing() {
        fixture.given(changed("evt_2", 20, "sub_1", ACTIVE, Plan.PRO, false, null))
                .when(new RecordInvoice(ACME, "evt_inv", T0.plusSeconds(5), "sub_1", "cus_1", false))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void anotherSubscriptionEndingLeavesTheLiveOneAndCannotReturn() {
        fixture.given(changed("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false, null))
                .when(record("evt_x", 90, "sub_old", CANCELED, Plan.PRO, false))
                .expectEvents(new OtherSubscriptionEnded(ACME, "sub_old", "evt_x"));
        fixture.given(changed("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false, null),
                        new OtherSubscriptionEnded(ACME, "sub_old", "evt_x"),
                        changed("evt_2", 20, "sub_1", CANCELED, Plan.PRO, false, null))
                .when(record("evt_y", 95, "sub_old", ACTIVE, Plan.ENTERPRISE, false))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void aNewerSubscriptionReplacesTheLiveOneWhoseLaterEventsChangeNothing() {
        fixture.given(changed("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false, null))
                .when(record("evt_2", 5, "sub_2", ACTIVE, Plan.ENTERPRISE, false))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
        fixture.given(changed("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false, null))
                .when(record("evt_2", 20, "sub_2", ACTIVE, Plan.ENTERPRISE, false))
                .expectEvents(changed("evt_2", 20, "sub_2", ACTIVE, Plan.ENTERPRISE, false, null));
        fixture.given(changed("evt_1", 10, "sub_1", ACTIVE, Plan.PRO, false, null),
                        changed("evt_2", 20, "sub_2", ACTIVE, Plan.ENTERPRISE, false, null))
                .when(record("evt_3", 30, "sub_1", ACTIVE, Plan.PRO, true))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void aCheckoutLinksTheCustomerOnce() {
        fixture.givenNoPriorActivity()
                .when(new CompleteCheckout(ACME, "evt_c", T0, "cus_1", "sub_1"))
                .expectEvents(new CheckoutCompleted(ACME, "cus_1", "sub_1", "evt_c"));
        fixture.given(new CheckoutCompleted(ACME, "cus_1", "sub_1", "evt_c"))
                .when(new CompleteCheckout(ACME, "evt_c2", T0, "cus_1", "sub_1"))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }
}
