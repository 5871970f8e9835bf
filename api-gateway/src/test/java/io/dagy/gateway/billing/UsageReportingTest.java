package io.dagy.gateway.billing;

import io.dagy.gateway.support.MovableClock;
import io.dagy.gateway.support.MovableClockConfiguration;
import com.stripe.StripeClient;
import io.dagy.contracts.billing.SubscriptionStatus;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.TestOrganizations;
import io.dagy.projection.billing.SubscriptionDirectory;
import io.dagy.projection.usage.UsageAggregates;
import io.dagy.tables.DagyTable;
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
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
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
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static io.dagy.gateway.billing.StripeEvents.PRICE_PRO;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Usage reported to Stripe as meter events, against the local stand-in: one event per organization, meter and closed
 * hour, the same identifier whatever is retried, a crash between Stripe's answer and the record, a second reporter on
 * the same tables, and a failed report retried with backoff and shown in {@code GET /v1/billing}.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"dagy.billing.stripe-secret-key=sk_test_standin", "dagy.billing.webhook-secret=" + StripeEvents.SECRET,
                "dagy.billing.price-pro=" + PRICE_PRO, "dagy.billing.report-interval=0s"})
@ActiveProfiles({"local", "test"})
@Import(MovableClockConfiguration.class)
class UsageReportingTest {

    private static final StripeStandIn STRIPE = standIn();
    private static final String METER_EVENTS = "/v1/billing/meter_events";

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
    ApplicationContext context;
    @Autowired
    UsageReporter reporter;
    @Autowired
    MeterReports reports;
    @Autowired
    SubscriptionDirectory directory;
    @Autowired
    DynamoDbClient dynamoDb;
    @Autowired
    DagyResources resources;
    @Autowired
    JsonMapper json;

    private final OrgId org = new OrgId("reported-" + UUID.randomUUID().toString().substring(0, 8));
    private final String customer = "cus_" + org.value();
    private final Instant thisHour = Instant.now().truncatedTo(ChronoUnit.HOURS);

    @BeforeEach
    void subscribed() throws Exception {
        clock.reset();
        long now = Instant.now().getEpochSecond();
        String body = StripeEvents.event("evt_" + UUID.randomUUID(), "customer.subscription.updated", now - 60,
                StripeEvents.subscription("sub_" + org, org.value(), customer, PRICE_PRO, "active", now - 10 * 86_400,
                        now + 20 * 86_400, false));
        var response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/webhooks/stripe"))
                .header("Stripe-Signature", StripeEvents.signature(body, clock.instant()))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> directory.find(org).status() == SubscriptionStatus.ACTIVE);
    }

    @Test
    void eachClosedHourIsReportedOncePerMeterWithAnIdentifierFromOrganizationMeterAndHour() {
        Instant hour = thisHour.minus(3, ChronoUnit.HOURS);
        usage(hour, 5, 1234);
        usage(thisHour, 7, 99); // not closed yet: not reported

        reporter.reportDue();

        var sent = STRIPE.to(METER_EVENTS).stream().filter(r -> customer.equals(r.form().get("payload[stripe_customer_id]")))
                .toList();
        assertThat(sent).hasSize(2);
        String period = UsageAggregates.Granularity.HOUR.periodOf(hour);
        var runs = sent.stream().filter(r -> r.form().get("event_name").equals("dagy_runs")).findFirst().orElseThrow();
        assertThat(runs.form()).containsEntry("payload[value]", "5")
                .containsEntry("identifier", MeterReports.identifier(org, "dagy_runs", period))
                .containsEntry("timestamp", Long.toString(hour.plus(Duration.ofHours(1)).minusSeconds(1).getEpochSecond()));
        assertThat(runs.idempotencyKey()).isEqualTo(runs.form().get("identifier"));
        var taskMs = sent.stream().filter(r -> r.form().get("event_name").equals("dagy_task_ms")).findFirst().orElseThrow();
        assertThat(taskMs.form()).containsEntry("payload[value]", "1234");
        assertThat(reports.find(org, period, "dagy_runs").orElseThrow().state()).isEqualTo(MeterReports.SENT);

        reporter.reportDue();

        assertThat(requestsFor(period)).as("a reported hour is not sent again").isEqualTo(2);
    }

    @Test
    void aCrashBetweenStripesAnswerAndTheRecordSendsTheSameIdentifierAndBillsOnce() {
        Instant hour = thisHour.minus(4, ChronoUnit.HOURS);
        String period = UsageAggregates.Granularity.HOUR.periodOf(hour);
        usage(hour, 3, 0);
        reporter.reportDue();
        String identifier = MeterReports.identifier(org, "dagy_runs", period);
        assertThat(STRIPE.billed).containsEntry(identifier, 3L);

        diedBeforeRecordingTheRuns(period);

        secondNode().reportDue();

        var sends = STRIPE.to(METER_EVENTS).stream().filter(r -> identifier.equals(r.form().get("identifier"))).toList();
        assertThat(sends).hasSize(2);
        assertThat(sends).extracting(StripeStandIn.Request::idempotencyKey).containsOnly(identifier);
        assertThat(STRIPE.billed).containsEntry(identifier, 3L);
        assertThat(reports.find(org, period, "dagy_runs").orElseThrow().state()).isEqualTo(MeterReports.SENT);
    }

    @Test
    void twoNodesReportingAtOnceSendEachReportOnce() {
        Instant hour = thisHour.minus(5, ChronoUnit.HOURS);
        String period = UsageAggregates.Granularity.HOUR.periodOf(hour);
        usage(hour, 8, 800);
        UsageReporter other = secondNode();

        CompletableFuture<Integer> a = CompletableFuture.supplyAsync(reporter::reportDue);
        CompletableFuture<Integer> b = CompletableFuture.supplyAsync(other::reportDue);
        CompletableFuture.allOf(a, b).join();

        assertThat(requestsFor(period)).isEqualTo(2); // one per meter, whichever node claimed it
        assertThat(a.join() + b.join()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void aFailedReportIsRetriedWithBackoffAndShownUntilItIsSent() throws Exception {
        Instant hour = thisHour.minus(6, ChronoUnit.HOURS);
        String period = UsageAggregates.Granularity.HOUR.periodOf(hour);
        usage(hour, 2, 0);
        STRIPE.failNext(3); // stripe-java's own two retries included: one failed attempt

        reporter.reportDue();

        var failed = reports.find(org, period, "dagy_runs").orElseThrow();
        assertThat(failed.state()).isEqualTo(MeterReports.FAILED);
        assertThat(failed.attempts()).isEqualTo(1);
        assertThat(failed.lastError()).contains("500");
        String owner = new TestOrganizations(context).key(org, Role.OWNER);
        JsonNode reporting = json.readTree(ApiCalls.send(port, owner, "GET", "/v1/billing", null).body()).get("reporting");
        assertThat(reporting.get("failures").get(0).get("hour").asString()).isEqualTo(period);
        assertThat(reporting.get("failures").get(0).get("attempts").asInt()).isEqualTo(1);

        int before = requestsFor(period);
        reporter.reportDue();
        assertThat(requestsFor(period)).as("not before its backoff").isEqualTo(before);

        clock.moveBy(MeterReports.backoff(1).plusSeconds(1));
        reporter.reportDue();

        assertThat(reports.find(org, period, "dagy_runs").orElseThrow().state()).isEqualTo(MeterReports.SENT);
        assertThat(STRIPE.billed).containsEntry(MeterReports.identifier(org, "dagy_runs", period), 2L);
        JsonNode after = json.readTree(ApiCalls.send(port, owner, "GET", "/v1/billing", null).body()).get("reporting");
        assertThat(after.get("failures")).isEmpty();
    }

    /**
     * Usage that reaches an hour after it was reported (a projection that lagged past the settle time) is sent as a
     * correction for the difference, under an identifier of its own, once; Stripe's sum for the hour is the usage.
     */
    @Test
    void usageThatReachesAnHourAfterItWasReportedIsSentAsACorrection() {
        Instant hour = thisHour.minus(7, ChronoUnit.HOURS);
        String period = UsageAggregates.Granularity.HOUR.periodOf(hour);
        usage(hour, 5, 0);
        reporter.reportDue();
        assertThat(billedRuns(hour)).isEqualTo(5);

        usage(hour, 8, 0);
        reporter.reportDue();
        reporter.reportDue();

        String correction = MeterReports.identifier(org, MeterReports.correction("dagy_runs", 5), period);
        var sends = STRIPE.to(METER_EVENTS).stream().filter(r -> correction.equals(r.form().get("identifier"))).toList();
        assertThat(sends).singleElement().satisfies(send -> assertThat(send.form())
                .containsEntry("event_name", "dagy_runs").containsEntry("payload[value]", "3")
                .containsEntry("timestamp", Long.toString(hour.plus(Duration.ofHours(1)).minusSeconds(1).getEpochSecond())));
        assertThat(billedRuns(hour)).isEqualTo(8);
        assertThat(reports.since(org, period).get(period + "#dagy_runs#5")).satisfies(recorded -> {
            assertThat(recorded.meter()).isEqualTo("dagy_runs");
            assertThat(recorded.correctionOf()).isEqualTo(5L);
            assertThat(recorded.state()).isEqualTo(MeterReports.SENT);
        });

        usage(hour, 10, 0);
        reporter.reportDue();
        assertThat(billedRuns(hour)).isEqualTo(10);
    }

    /**
     * A report whose first attempt Stripe kept though its answer was lost is sent again with that attempt's value,
     * even when the hour grew meanwhile (Stripe keeps the first event of an identifier): the growth follows as a
     * correction, so Stripe's sum is the usage, not the first attempt's value.
     */
    @Test
    void aReportSentAgainCarriesItsFirstValueAndTheGrowthFollowsAsACorrection() {
        Instant hour = thisHour.minus(8, ChronoUnit.HOURS);
        String period = UsageAggregates.Granularity.HOUR.periodOf(hour);
        usage(hour, 3, 0);
        reporter.reportDue();
        diedBeforeRecordingTheRuns(period);
        usage(hour, 5, 0); // and then the hour grew

        secondNode().reportDue();
        secondNode().reportDue();

        String identifier = MeterReports.identifier(org, "dagy_runs", period);
        assertThat(STRIPE.to(METER_EVENTS).stream().filter(r -> identifier.equals(r.form().get("identifier"))))
                .extracting(r -> r.form().get("payload[value]")).containsExactly("3", "3");
        assertThat(billedRuns(hour)).isEqualTo(5);
    }

    /** The node that sent the hour's runs died after Stripe answered and before it recorded it: its claim lapsed. */
    private void diedBeforeRecordingTheRuns(String period) {
        dynamoDb.updateItem(b -> b.tableName(resources.table(DagyTable.SUBSCRIPTIONS))
                .key(Map.of("pk", AttributeValue.fromS("meter-report#" + org.value()),
                        "sk", AttributeValue.fromS(period + "#dagy_runs")))
                .updateExpression("SET #s = :claimed, claim_until = :past")
                .expressionAttributeNames(Map.of("#s", "state"))
                .expressionAttributeValues(Map.of(":claimed", AttributeValue.fromS(MeterReports.CLAIMED),
                        ":past", AttributeValue.fromN("0"))));
    }

    /** What Stripe keeps for an hour's runs: one value per identifier, summed over the hour's report and corrections. */
    private long billedRuns(Instant hour) {
        String timestamp = Long.toString(hour.plus(Duration.ofHours(1)).minusSeconds(1).getEpochSecond());
        return STRIPE.to(METER_EVENTS).stream()
                .filter(r -> customer.equals(r.form().get("payload[stripe_customer_id]"))
                        && "dagy_runs".equals(r.form().get("event_name")) && timestamp.equals(r.form().get("timestamp")))
                .map(r -> r.form().get("identifier")).distinct()
                .mapToLong(identifier -> STRIPE.billed.getOrDefault(identifier, 0L)).sum();
    }

    private UsageReporter secondNode() {
        return new UsageReporter(context.getBean(BillingProperties.class), directory,
                context.getBean(UsageAggregates.class), new MeterReports(dynamoDb, resources.table(DagyTable.SUBSCRIPTIONS)),
                context.getBean(StripeClient.class), clock);
    }

    private int requestsFor(String period) {
        var identifiers = java.util.Set.of(MeterReports.identifier(org, "dagy_runs", period),
                MeterReports.identifier(org, "dagy_task_ms", period));
        return (int) STRIPE.to(METER_EVENTS).stream().filter(r -> identifiers.contains(r.form().get("identifier"))).count();
    }

    /** An hour's totals as the usage projection writes them (docs/usage.md). */
    private void usage(Instant hour, long runs, long billableMs) {
        Map<String, AttributeValue> totals = new java.util.HashMap<>();
        totals.put("runs_started", AttributeValue.fromN(Long.toString(runs)));
        if (billableMs > 0) {
            totals.put("billable_ms:small:noop", AttributeValue.fromN(Long.toString(billableMs)));
        }
        dynamoDb.putItem(b -> b.tableName(resources.table(DagyTable.USAGE_AGGREGATES)).item(Map.of(
                "pk", AttributeValue.fromS("usage#" + org.value() + "#hour"),
                "sk", AttributeValue.fromS(UsageAggregates.Granularity.HOUR.periodOf(hour)),
                "m", AttributeValue.fromM(totals))));
    }

    private static StripeStandIn standIn() {
        try {
            return new StripeStandIn();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
