package io.dagy.gateway.billing;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.billing.Plan;
import io.dagy.contracts.billing.SubscriptionStatus;
import io.dagy.contracts.billing.SubscriptionView;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.OrganizationCommands.Limit;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.projection.billing.SubscriptionDirectory;
import io.dagy.projection.usage.UsageAggregates;
import org.axonframework.commandhandling.CommandExecutionException;
import org.springframework.http.HttpStatus;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The plan's limits where work starts (docs/billing.md, "Limits"). With billing off every check passes.
 * <ul>
 *     <li>monthly quotas (runs, task-seconds) used up: 402 {@code plan_limit_reached}: paying (upgrading) or the next
 *     month helps, retrying does not;</li>
 *     <li>the plan's concurrent runs all going: 429 {@code concurrency_limit_reached}: retrying later does help;</li>
 *     <li>{@code past_due} beyond the grace, or {@code unpaid}: 402 {@code subscription_read_only} on every write.</li>
 * </ul>
 * Every refusal carries {@code limit} (its name), {@code limit_value}, {@code used} and {@code plan}.
 */
public final class BillingGuard {

    /** A started run's slot; release it if the start failed. */
    public interface Slot {
        void release();
    }

    private static final Slot NONE = () -> {
    };

    private final BillingProperties properties;
    private final SubscriptionDirectory subscriptions;
    private final UsageAggregates usage;
    private final ConcurrencySlots slots;
    private final Clock clock;

    BillingGuard(BillingProperties properties, SubscriptionDirectory subscriptions, UsageAggregates usage,
                 ConcurrencySlots slots, Clock clock) {
        this.properties = properties;
        this.subscriptions = subscriptions;
        this.usage = usage;
        this.slots = slots;
        this.clock = clock;
    }

    public boolean enabled() {
        return properties.enabled();
    }

    /**
     * Checks the plan before a run starts and takes its concurrency slot.
     *
     * @throws ProblemException 402 or 429, as the class says
     */
    public Slot startRun(OrgId org, String runId) {
        return admit(org, runId, true);
    }

    /**
     * Checks the plan before a finished run runs again: as {@link #startRun}, except that a rerun is not a new run, so
     * the monthly run quota does not apply (its task-seconds and its concurrency slot do).
     */
    public Slot rerun(OrgId org, String runId) {
        return admit(org, runId, false);
    }

    private Slot admit(OrgId org, String runId, boolean newRun) {
        if (!enabled()) {
            return NONE;
        }
        SubscriptionView subscription = subscriptions.find(org);
        requireWritable(subscription);
        Plan plan = subscription.effectivePlan();
        BillingProperties.Limits limits = properties.limitsOf(plan);
        Map<String, Long> month = monthTotals(org);
        long runs = month.getOrDefault("runs_started", 0L);
        if (newRun && limits.runsPerMonth() >= 0 && runs >= limits.runsPerMonth()) {
            throw limitReached(ErrorCode.PLAN_LIMIT_REACHED, plan.code(), "runs_per_month", limits.runsPerMonth(),
                    runs, "The " + plan.code() + " plan allows " + limits.runsPerMonth() + " runs a month.");
        }
        long taskSeconds = taskMillis(month) / 1000;
        if (limits.taskSecondsPerMonth() >= 0 && taskSeconds >= limits.taskSecondsPerMonth()) {
            throw limitReached(ErrorCode.PLAN_LIMIT_REACHED, plan.code(), "task_seconds_per_month",
                    limits.taskSecondsPerMonth(), taskSeconds,
                    "The " + plan.code() + " plan allows " + limits.taskSecondsPerMonth() + " task-seconds a month.");
        }
        if (limits.concurrentRuns() >= 0) {
            if (!slots.acquire(org, runId, limits.concurrentRuns())) {
                throw limitReached(ErrorCode.CONCURRENCY_LIMIT_REACHED, plan.code(), "concurrent_runs",
                        limits.concurrentRuns(), limits.concurrentRuns(), "The " + plan.code() + " plan runs "
                                + limits.concurrentRuns() + " runs at once; start this one when another has finished.");
            }
            return () -> slots.release(org, runId);
        }
        return NONE;
    }

    /** The countable limits enforced where the thing is added, not where a run starts. */
    public enum Countable {
        MEMBERS("members"), API_KEYS("api_keys");

        private final String code;

        Countable(String code) {
            this.code = code;
        }
    }

    /**
     * Before one more member or API key is added: 402 {@code plan_limit_reached} when the organization has as many as
     * its plan allows. {@code current} is what the identity directory counts (this node's view, caught up after its
     * own commands). Answers the limit for the command that adds it (null: none), which the organization applies
     * again, so that two nodes adding at the same moment cannot both pass it (decision 103); see {@link #refused}.
     */
    public Limit requireRoomFor(OrgId org, Countable what, long current) {
        Limit limit = limitOf(org, what);
        if (limit != null && current >= limit.most()) {
            throw limitReached(limit, what, current);
        }
        return limit;
    }

    /** The organization's plan limit on {@code what}; null when billing is off or the plan sets none. */
    public Limit limitOf(OrgId org, Countable what) {
        if (!enabled()) {
            return null;
        }
        Plan plan = subscriptions.find(org).effectivePlan();
        BillingProperties.Limits limits = properties.limitsOf(plan);
        long most = what == Countable.MEMBERS ? limits.members() : limits.apiKeys();
        return most < 0 ? null : new Limit(plan.code(), most);
    }

    /**
     * The problem for a command the organization refused because {@code limit} was reached meanwhile (another node
     * added one): the same 402 as {@link #requireRoomFor}'s; any other failure is answered as it is.
     */
    public RuntimeException refused(CommandExecutionException failure, Countable what, Limit limit) {
        boolean limitReached = limit != null && failure.getDetails().filter(BusinessError.class::isInstance)
                .map(BusinessError.class::cast).filter(error -> error.code() == ErrorCode.PLAN_LIMIT_REACHED)
                .isPresent();
        return limitReached ? limitReached(limit, what, limit.most()) : failure;
    }

    private static ProblemException limitReached(Limit limit, Countable what, long current) {
        return limitReached(ErrorCode.PLAN_LIMIT_REACHED, limit.plan(), what.code, limit.most(), current,
                "The " + limit.plan() + " plan allows " + limit.most() + " " + what.code.replace('_', ' ') + ".");
    }

    /** @throws ProblemException 402 {@code subscription_read_only} when the organization may only read */
    public void requireWritable(OrgId org) {
        if (enabled()) {
            requireWritable(subscriptions.find(org));
        }
    }

    private void requireWritable(SubscriptionView subscription) {
        readOnlySince(subscription).filter(since -> !since.isAfter(clock.instant())).ifPresent(since -> {
            throw new ProblemException(HttpStatus.PAYMENT_REQUIRED, ErrorCode.SUBSCRIPTION_READ_ONLY,
                    "The subscription's payment is overdue: the organization is read-only until it is paid.")
                    .with("plan", subscription.plan().code()).with("status", subscription.status().code())
                    .with("read_only_since", since.toString());
        });
    }

    /** When the organization becomes (or became) read-only, if its subscription is overdue. */
    Optional<Instant> readOnlySince(SubscriptionView subscription) {
        if (subscription.status() == SubscriptionStatus.UNPAID) {
            return Optional.of(subscription.stripeVersion() == null ? Instant.EPOCH : subscription.stripeVersion());
        }
        if (subscription.status() == SubscriptionStatus.PAST_DUE && subscription.pastDueSince() != null) {
            return Optional.of(subscription.pastDueSince().plus(properties.pastDueGrace()));
        }
        return Optional.empty();
    }

    Map<String, Long> monthTotals(OrgId org) {
        Instant now = clock.instant();
        return usage.periods(org.value(), UsageAggregates.Granularity.MONTH, now, now).stream().findFirst()
                .map(UsageAggregates.Period::totals).orElse(Map.of());
    }

    static long taskMillis(Map<String, Long> totals) {
        return totals.entrySet().stream().filter(e -> e.getKey().startsWith("billable_ms:"))
                .mapToLong(Map.Entry::getValue).sum();
    }

    int concurrentRuns(OrgId org) {
        return slots.inUse(org);
    }

    private static ProblemException limitReached(ErrorCode code, String plan, String limit, long value, long used,
                                                 String detail) {
        return new ProblemException(code == ErrorCode.CONCURRENCY_LIMIT_REACHED ? HttpStatus.TOO_MANY_REQUESTS
                : HttpStatus.PAYMENT_REQUIRED, code, detail)
                .with("plan", plan).with("limit", limit).with("limit_value", value).with("used", used);
    }
}
