package io.dagy.gateway.billing;

import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import com.stripe.net.RequestOptions;
import com.stripe.param.billing.MeterEventCreateParams;
import io.dagy.contracts.billing.SubscriptionView;
import io.dagy.projection.billing.SubscriptionDirectory;
import io.dagy.projection.usage.UsageAggregates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reports usage aggregates to Stripe as billing meter events (docs/billing.md, "Usage to Stripe"): for each
 * organization with a Stripe customer and a live subscription, each closed UTC hour of usage becomes one meter event
 * per meter (runs started; billable task milliseconds), timestamped inside that hour, with an identifier derived from
 * organization, meter and hour. An hour is reported once it ended {@code reportSettle} ago (the usage projection's
 * lag); hours of a billing period that has closed (before the subscription's current period) are reported at the
 * next run without that wait. Usage that reaches an hour after it was reported is sent as a correction for the
 * difference. Every node runs it every {@code reportInterval}; {@link MeterReports} keeps two nodes from sending one
 * report at once and records every outcome.
 */
final class UsageReporter {

    private static final Logger log = LoggerFactory.getLogger(UsageReporter.class);
    /** Stripe takes meter events of the last 35 days; an hour is looked at for 34. */
    static final Duration LOOK_BACK = Duration.ofDays(34);

    private final BillingProperties properties;
    private final SubscriptionDirectory subscriptions;
    private final UsageAggregates usage;
    private final MeterReports reports;
    private final StripeClient stripe;
    private final Clock clock;

    UsageReporter(BillingProperties properties, SubscriptionDirectory subscriptions, UsageAggregates usage,
                  MeterReports reports, StripeClient stripe, Clock clock) {
        this.properties = properties;
        this.subscriptions = subscriptions;
        this.usage = usage;
        this.reports = reports;
        this.stripe = stripe;
        this.clock = clock;
    }

    /** Reports every hour that is due; returns how many meter events were sent successfully. */
    int reportDue() {
        int sent = 0;
        for (SubscriptionView subscription : subscriptions.withCustomers()) {
            if (subscription.status().grantsPlan() || subscription.status().ended()) {
                sent += reportDue(subscription);
            }
        }
        return sent;
    }

    int reportDue(SubscriptionView subscription) {
        Instant now = clock.instant();
        Instant from = now.minus(LOOK_BACK).truncatedTo(ChronoUnit.HOURS);
        if (subscription.periodStart() != null && subscription.periodStart().minus(Duration.ofDays(31)).isAfter(from)) {
            from = subscription.periodStart().minus(Duration.ofDays(31)).truncatedTo(ChronoUnit.HOURS);
        }
        Instant lastHourEnd = now.truncatedTo(ChronoUnit.HOURS);
        if (!lastHourEnd.isAfter(from)) {
            return 0;
        }
        var granularity = UsageAggregates.Granularity.HOUR;
        Map<String, MeterReports.Report> recorded = reports.since(subscription.organization(), granularity.periodOf(from));
        int sent = 0;
        for (var period : usage.periods(subscription.organization().value(), granularity, from,
                lastHourEnd.minusSeconds(1))) {
            Instant hourStart = LocalDateTime.parse(period.period() + ":00").toInstant(ZoneOffset.UTC);
            Instant hourEnd = hourStart.plus(Duration.ofHours(1));
            boolean periodClosed = subscription.periodStart() != null && !hourEnd.isAfter(subscription.periodStart());
            if (!periodClosed && hourEnd.plus(properties.reportSettle()).isAfter(now)) {
                continue; // usage of this hour may still be on its way through the projection
            }
            Map<String, Long> values = new LinkedHashMap<>();
            values.put(properties.meterRuns(), period.totals().getOrDefault("runs_started", 0L));
            values.put(properties.meterTaskMs(), BillingGuard.taskMillis(period.totals()));
            for (var meter : values.entrySet()) {
                long total = meter.getValue();
                long reported = reported(recorded, period.period(), meter.getKey());
                if (total <= reported) {
                    continue;
                }
                // nothing sent yet: the hour's report; else usage that reached the aggregates after it was sent (a
                // projection that lagged past the settle time): a correction for the difference
                String report = reported == 0 ? meter.getKey() : MeterReports.correction(meter.getKey(), reported);
                if (send(subscription, period.period(), meter.getKey(), report, total - reported,
                        hourEnd.minusSeconds(1))) {
                    sent++;
                }
            }
        }
        return sent;
    }

    /**
     * How much of an hour's meter Stripe has been sent: the hour's report, then each correction sent after it, each
     * recorded under the total it added to (decision 104). Zero when the report itself is not sent yet.
     */
    static long reported(Map<String, MeterReports.Report> recorded, String hour, String meter) {
        long total = 0;
        for (var report = recorded.get(hour + "#" + meter); report != null && MeterReports.SENT.equals(report.state());
             report = recorded.get(hour + "#" + MeterReports.correction(meter, total))) {
            total += report.value();
        }
        return total;
    }

    /** Sends one report ({@code report}: the meter, or a correction of it) of {@code value} for the hour. */
    private boolean send(SubscriptionView subscription, String hour, String meter, String report, long value,
                         Instant timestamp) {
        var org = subscription.organization();
        Instant now = clock.instant();
        var claimed = reports.claim(org, hour, report, value, now);
        if (claimed.isEmpty()) {
            return false;
        }
        String identifier = MeterReports.identifier(org, report, hour);
        try {
            stripe.v1().billing().meterEvents().create(MeterEventCreateParams.builder()
                            .setEventName(meter)
                            .setIdentifier(identifier)
                            .setTimestamp(timestamp.getEpochSecond())
                            .putPayload("stripe_customer_id", subscription.customerId())
                            .putPayload("value", Long.toString(claimed.getAsLong()))
                            .build(),
                    RequestOptions.builder().setIdempotencyKey(identifier).build());
        } catch (StripeException | RuntimeException failed) {
            String error = failed instanceof StripeException stripeError
                    ? "stripe " + stripeError.getStatusCode() + " " + stripeError.getCode()
                    : failed.getClass().getSimpleName();
            log.warn("Reporting {} of {} for {} to Stripe failed ({}); retried with backoff", meter, hour, org, error);
            reports.failed(org, hour, report, clock.instant(), error);
            return false;
        }
        reports.sent(org, hour, report, clock.instant());
        return true;
    }
}
