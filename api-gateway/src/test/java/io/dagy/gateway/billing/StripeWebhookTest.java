package io.dagy.gateway.billing;

import io.dagy.gateway.support.MovableClock;
import io.dagy.gateway.support.MovableClockConfiguration;
import io.dagy.contracts.billing.Plan;
import io.dagy.contracts.billing.SubscriptionStatus;
import io.dagy.contracts.billing.SubscriptionView;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
import io.dagy.projection.billing.SubscriptionDirectory;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.dagy.gateway.billing.StripeEvents.PRICE_ENTERPRISE;
import static io.dagy.gateway.billing.StripeEvents.PRICE_PRO;
import static io.dagy.gateway.billing.StripeEvents.event;
import static io.dagy.gateway.billing.StripeEvents.subscription;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stripe's webhook end to end: signed deliveries over HTTP, the Subscription aggregate, the subscription read model
 * and {@code GET /v1/billing}; Checkout and the portal through stripe-java against the local stand-in.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"dagy.billing.stripe-secret-key=sk_test_standin", "dagy.billing.webhook-secret=" + StripeEvents.SECRET,
                "dagy.billing.price-pro=" + PRICE_PRO, "dagy.billing.price-enterprise=" + PRICE_ENTERPRISE,
                "dagy.billing.report-interval=0s", "dagy.billing.plans.free.api-keys=2", "dagy.billing.plans.free.members=1"})
@ActiveProfiles({"local", "test"})
@Import(MovableClockConfiguration.class)
class StripeWebhookTest {

    private static final StripeStandIn STRIPE = standIn();

    @DynamicPropertySource
    static void stripe(DynamicPropertyRegistry registry) {
        registry.add("dagy.billing.stripe-api-base", STRIPE::base);
    }

    @AfterAll
    static void stop() {
        STRIPE.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    MovableClock clock;
    @Autowired
    SubscriptionDirectory directory;
    @Autowired
    ApplicationContext context;
    @Autowired
    EventStore eventStore;
    @Autowired
    JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();
    private final OrgId org = new OrgId("billed-" + UUID.randomUUID().toString().substring(0, 8));
    private final long t0 = Instant.now().getEpochSecond() - 3600;
    private final long periodStart = t0 - 86_400;
    private final long periodEnd = periodStart + 30 * 86_400;

    @BeforeEach
    void resetClock() {
        clock.reset();
    }

    @Test
    void aSignedSubscriptionUpdateBecomesTheOrganizationsPlan() throws Exception {
        var response = deliver(event("evt_" + uuid(), "customer.subscription.updated", t0,
                subscription("sub_1", org.value(), "cus_" + org, PRICE_PRO, "active", periodStart, periodEnd, false)));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(json.readTree(response.body()).get("outcome").asString()).isEqualTo("processed");
        SubscriptionView view = awaitView(v -> v.status() == SubscriptionStatus.ACTIVE);
        assertThat(view.plan()).isEqualTo(Plan.PRO);
        assertThat(view.customerId()).isEqualTo("cus_" + org);
        assertThat(view.periodEnd()).isEqualTo(Instant.ofEpochSecond(periodEnd));

        String owner = new TestOrganizations(context).key(org, Role.OWNER);
        JsonNode billing = json.readTree(ApiCalls.send(port, owner, "GET", "/v1/billing", null).body());
        assertThat(billing.get("plan").asString()).isEqualTo("pro");
        assertThat(billing.get("status").asString()).isEqualTo("active");
        assertThat(billing.get("billing_enabled").asBoolean()).isTrue();
        assertThat(billing.get("limits").get(0).get("name").asString()).isEqualTo("runs_per_month");
        assertThat(billing.get("limits").get(0).get("limit").asLong()).isEqualTo(100_000);
    }

    @Test
    void anUnsignedATamperedAndAStaleDeliveryAreRefusedAndChangeNothing() throws Exception {
        String body = event("evt_" + uuid(), "customer.subscription.updated", t0,
                subscription("sub_1", org.value(), "cus_1", PRICE_PRO, "active", periodStart, periodEnd, false));

        ApiCalls.assertProblem(post(body, null), 401, "invalid_signature");
        ApiCalls.assertProblem(post(body.replace(PRICE_PRO, PRICE_ENTERPRISE), StripeEvents.signature(body, clock.instant())),
                401, "invalid_signature");
        String stale = StripeEvents.signature(body, clock.instant());
        clock.moveBy(Duration.ofMinutes(5).plusSeconds(5));
        ApiCalls.assertProblem(post(body, stale), 401, "invalid_signature");
        ApiCalls.assertProblem(post(body, "t=" + clock.instant().getEpochSecond() + ",v1=" + "0".repeat(64)), 401,
                "invalid_signature");
        assertThat(eventCount()).as("a refused delivery changes nothing").isZero();

        // the same body, signed now, goes through: the refusals above were the signatures, not the body
        clock.reset();
        assertThat(deliver(body).statusCode()).isEqualTo(200);
        awaitView(v -> v.status() == SubscriptionStatus.ACTIVE);
    }

    @Test
    void theSameEventDeliveredTwiceIsHandledOnce() throws Exception {
        String id = "evt_" + uuid();
        String body = event(id, "customer.subscription.updated", t0,
                subscription("sub_1", org.value(), "cus_1", PRICE_PRO, "active", periodStart, periodEnd, false));
        deliver(body);
        awaitView(v -> v.status() == SubscriptionStatus.ACTIVE);
        long before = eventCount();

        var again = deliver(body);

        assertThat(json.readTree(again.body()).get("outcome").asString()).isEqualTo("already_processed");
        assertThat(eventCount()).isEqualTo(before);
    }

    @Test
    void anOlderUpdateArrivingAfterANewerOneChangesNothing() throws Exception {
        deliver(event("evt_" + uuid(), "customer.subscription.updated", t0 + 20,
                subscription("sub_1", org.value(), "cus_1", PRICE_ENTERPRISE, "active", periodStart, periodEnd, true)));
        awaitView(v -> v.plan() == Plan.ENTERPRISE);
        long before = eventCount();

        var late = deliver(event("evt_" + uuid(), "customer.subscription.updated", t0 + 10,
                subscription("sub_1", org.value(), "cus_1", PRICE_PRO, "past_due", periodStart, periodEnd, false)));

        assertThat(late.statusCode()).isEqualTo(200);
        assertThat(eventCount()).as("the late, older state appends nothing").isEqualTo(before);
        SubscriptionView view = directory.find(org);
        assertThat(view.plan()).isEqualTo(Plan.ENTERPRISE);
        assertThat(view.cancelAtPeriodEnd()).isTrue();
    }

    @Test
    void aBurstOfFiftyDeliveriesInMixedOrderEndsInStripesFinalState() throws Exception {
        String[] statuses = {"active", "past_due", "active", "trialing", "past_due"};
        String[] prices = {PRICE_PRO, PRICE_ENTERPRISE};
        List<String> bodies = new ArrayList<>();
        Random random = new Random(14);
        for (int i = 0; i < 45; i++) {
            bodies.add(event("evt_" + uuid(), "customer.subscription.updated", t0 + i,
                    subscription("sub_burst", org.value(), "cus_1", prices[random.nextInt(2)],
                            statuses[random.nextInt(statuses.length)], periodStart, periodEnd, random.nextBoolean())));
        }
        // Stripe's final state: the newest event, enterprise, active, not cancelling
        bodies.add(event("evt_final_" + uuid(), "customer.subscription.updated", t0 + 45,
                subscription("sub_burst", org.value(), "cus_1", PRICE_ENTERPRISE, "active", periodStart, periodEnd, false)));
        for (int i = 0; i < 4; i++) {
            bodies.add(bodies.get(random.nextInt(bodies.size()))); // at least once: some delivered twice
        }
        Collections.shuffle(bodies, random);
        assertThat(bodies).hasSize(50);

        ExecutorService senders = Executors.newFixedThreadPool(4);
        try {
            List<Future<HttpResponse<String>>> sent = new ArrayList<>();
            for (String body : bodies) {
                sent.add(senders.submit(() -> deliver(body)));
            }
            for (var response : sent) {
                int status = response.get().statusCode();
                // a delivery that lost the race for the aggregate gets 409 and is retried by Stripe, as here
                assertThat(status).isIn(200, 409);
            }
            for (int i = 0; i < sent.size(); i++) {
                if (sent.get(i).get().statusCode() == 409) {
                    assertThat(deliver(bodies.get(i)).statusCode()).isEqualTo(200);
                }
            }
        } finally {
            senders.shutdownNow();
        }

        SubscriptionView view = awaitView(v -> v.stripeVersion() != null
                && v.stripeVersion().equals(Instant.ofEpochSecond(t0 + 45)));
        assertThat(view.plan()).isEqualTo(Plan.ENTERPRISE);
        assertThat(view.status()).isEqualTo(SubscriptionStatus.ACTIVE);
        assertThat(view.cancelAtPeriodEnd()).isFalse();
        assertThat(view.pastDueSince()).isNull();
    }

    @Test
    void aFailedInvoiceMakesTheSubscriptionPastDueAndAPaidOneActiveAgain() throws Exception {
        deliver(event("evt_" + uuid(), "checkout.session.completed", t0,
                StripeEvents.checkoutSession("cs_1", org.value(), "cus_inv", "sub_inv")));
        deliver(event("evt_" + uuid(), "customer.subscription.created", t0 + 1,
                subscription("sub_inv", org.value(), "cus_inv", PRICE_PRO, "active", periodStart, periodEnd, false)));
        awaitView(v -> v.status() == SubscriptionStatus.ACTIVE);

        deliver(event("evt_" + uuid(), "invoice.payment_failed", t0 + 10,
                StripeEvents.invoice("in_1", org.value(), "cus_inv", "sub_inv")));
        SubscriptionView pastDue = awaitView(v -> v.status() == SubscriptionStatus.PAST_DUE);
        assertThat(pastDue.pastDueSince()).isEqualTo(Instant.ofEpochSecond(t0 + 10));

        deliver(event("evt_" + uuid(), "invoice.paid", t0 + 20, StripeEvents.invoice("in_1", org.value(), "cus_inv", "sub_inv")));
        assertThat(awaitView(v -> v.status() == SubscriptionStatus.ACTIVE).pastDueSince()).isNull();
    }

    @Test
    void aPastDueOrganizationIsReadOnlyAfterItsGrace() throws Exception {
        String owner = new TestOrganizations(context).key(org, Role.OWNER);
        deliver(event("evt_" + uuid(), "customer.subscription.updated", t0,
                subscription("sub_late", org.value(), "cus_late", PRICE_PRO, "past_due", periodStart, periodEnd, false)));
        awaitView(v -> v.status() == SubscriptionStatus.PAST_DUE);
        String deployment = "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}}]}";
        assertThat(ApiCalls.send(port, owner, "PUT", "/v1/deployments/graced", deployment).statusCode())
                .as("within the grace the organization still works").isLessThan(300);

        clock.moveBy(Duration.ofDays(7));

        var refused = ApiCalls.send(port, owner, "POST", "/v1/deployments/graced/runs", "{}");
        ApiCalls.assertProblem(refused, 402, "subscription_read_only");
        ApiCalls.assertProblem(ApiCalls.send(port, owner, "PUT", "/v1/deployments/graced", deployment), 402,
                "subscription_read_only");
        assertThat(ApiCalls.send(port, owner, "GET", "/v1/deployments/graced", null).statusCode()).isEqualTo(200);
        assertThat(json.readTree(ApiCalls.send(port, owner, "GET", "/v1/billing", null).body()).get("read_only_from")
                .asString()).isEqualTo(Instant.ofEpochSecond(t0).plus(Duration.ofDays(7)).toString());
    }

    @Test
    void anUnknownEventTypeIsAcknowledgedIgnoredAndCounted() throws Exception {
        WebhookLedger ledger = context.getBean(WebhookLedger.class);
        long before = ledger.counts().getOrDefault("ignored#customer.tax_id.created", 0L);

        var response = deliver(event("evt_" + uuid(), "customer.tax_id.created", t0, "{\"id\": \"txi_1\", \"object\": \"tax_id\"}"));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(json.readTree(response.body()).get("outcome").asString()).isEqualTo("ignored");
        assertThat(ledger.counts().get("ignored#customer.tax_id.created")).isEqualTo(before + 1);
    }

    @Test
    void checkoutAndPortalSessionsComeFromStripeForOwnersOnly() throws Exception {
        var organizations = new TestOrganizations(context);
        String owner = organizations.key(org, Role.OWNER);
        String admin = organizations.key(org, Role.ADMIN);

        var checkout = ApiCalls.send(port, owner, "POST", "/v1/billing/checkout", "{\"plan\": \"pro\"}");

        assertThat(checkout.statusCode()).as(checkout.body()).isEqualTo(200);
        assertThat(json.readTree(checkout.body()).get("url").asString()).startsWith("https://checkout.stripe.test/");
        var sent = STRIPE.last("/v1/checkout/sessions");
        assertThat(sent.form()).containsEntry("mode", "subscription").containsEntry("client_reference_id", org.value())
                .containsEntry("line_items[0][price]", PRICE_PRO)
                .containsEntry("subscription_data[metadata][dagy_org]", org.value());
        assertThat(sent.authorization()).isEqualTo("Bearer sk_test_standin");

        ApiCalls.assertProblem(ApiCalls.send(port, admin, "POST", "/v1/billing/checkout", "{\"plan\": \"pro\"}"), 403,
                "forbidden");
        ApiCalls.assertProblem(ApiCalls.send(port, owner, "POST", "/v1/billing/checkout", "{\"plan\": \"gold\"}"), 400,
                "validation_failed");
        ApiCalls.assertProblem(ApiCalls.send(port, owner, "POST", "/v1/billing/portal", null), 409, "no_billing_account");

        deliver(event("evt_" + uuid(), "checkout.session.completed", t0,
                StripeEvents.checkoutSession("cs_p", org.value(), "cus_portal", "sub_portal")));
        awaitView(v -> "cus_portal".equals(v.customerId()));
        var portal = ApiCalls.send(port, owner, "POST", "/v1/billing/portal", null);
        assertThat(portal.statusCode()).as(portal.body()).isEqualTo(200);
        assertThat(STRIPE.last("/v1/billing_portal/sessions").form()).containsEntry("customer", "cus_portal");
    }

    @Test
    void theFreePlanLimitsApiKeysAndMembersWhereTheyAreAdded() throws Exception {
        String owner = new TestOrganizations(context).key(org, Role.OWNER); // the organization's first key

        var second = ApiCalls.send(port, owner, "POST", "/v1/api-keys", "{\"name\": \"ci\", \"role\": \"developer\"}");
        assertThat(second.statusCode()).as(second.body()).isEqualTo(201);
        var third = ApiCalls.send(port, owner, "POST", "/v1/api-keys", "{\"name\": \"more\", \"role\": \"developer\"}");
        ApiCalls.assertProblem(third, 402, "plan_limit_reached");
        JsonNode problem = json.readTree(third.body());
        assertThat(problem.get("limit").asString()).isEqualTo("api_keys");
        assertThat(problem.get("limit_value").asLong()).isEqualTo(2);
        assertThat(problem.get("used").asLong()).isEqualTo(2);

        String member = "{\"role\": \"viewer\"}";
        assertThat(ApiCalls.send(port, owner, "PUT", "/v1/organization/members/user_a", member).statusCode()).isEqualTo(200);
        ApiCalls.assertProblem(ApiCalls.send(port, owner, "PUT", "/v1/organization/members/user_b", member), 402,
                "plan_limit_reached");
        assertThat(ApiCalls.send(port, owner, "PUT", "/v1/organization/members/user_a", "{\"role\": \"developer\"}")
                .statusCode()).as("a member's role may still change").isEqualTo(200);

        JsonNode limits = json.readTree(ApiCalls.send(port, owner, "GET", "/v1/billing", null).body()).get("limits");
        assertThat(limits.get(3).get("used").asLong()).isEqualTo(1);
        assertThat(limits.get(4).get("used").asLong()).isEqualTo(2);
    }

    private SubscriptionView awaitView(java.util.function.Predicate<SubscriptionView> condition) {
        return await().atMost(Duration.ofSeconds(20)).until(() -> directory.find(org), condition);
    }

    private long eventCount() {
        return eventStore.readEvents("subscription:" + org.value()).asStream().count();
    }

    private HttpResponse<String> deliver(String body) {
        try {
            return post(body, StripeEvents.signature(body, clock.instant()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> post(String body, String signature) throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/stripe"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (signature != null) {
            request.header("Stripe-Signature", signature);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String uuid() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }

    private static StripeStandIn standIn() {
        try {
            return new StripeStandIn();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
