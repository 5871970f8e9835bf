package io.dagy.projection.usage;

import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptFailed;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptStarted;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptSucceeded;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.eventstore.tx.DynamoWrites;
import io.dagy.eventstore.tx.OwnedItems;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ReplayStatus;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.annotation.MessageIdentifier;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Usage metering (docs/usage.md): usage events in {@code DAGY_USAGE_EVENTS} and their totals per organization and
 * hour, day and month in {@code DAGY_USAGE_AGGREGATES} ({@link UsageAggregates}).
 *
 * <ul>
 *     <li>{@code RunStarted}: one {@code run_started} usage event, {@code runs_started + 1};</li>
 *     <li>an attempt, once it ends ({@code TaskAttemptSucceeded}, {@code TaskAttemptFailed}, or a
 *     {@code TaskRunFinished CANCELLED} that ends the attempt in flight): one {@code task_attempt} usage event with
 *     its billable milliseconds, from its start ({@code TaskAttemptStarted}, else its dispatch) to its end, under its
 *     runtime tier (the run's {@code execution_mode}) and backend: {@code task_attempts:<tier>:<backend> + 1},
 *     {@code billable_ms:<tier>:<backend> + ms}.</li>
 * </ul>
 *
 * <p>Exact under redelivery: a fact is metered once, recorded by its usage event (runs, keyed by the event id) or by
 * its attempt's state ({@code metered}), both read before adding and written in the same transaction as the totals;
 * and the processor commits its token with them, so a crash mid-batch writes nothing. Sequenced by organization, like
 * the audit log, so an organization's totals are written by one segment at a time.
 */
@ProcessingGroup(UsageProjection.PROCESSING_GROUP)
public class UsageProjection {

    public static final String PROCESSING_GROUP = "usage";
    public static final String RUNS_STARTED = "runs_started";
    /** The tier of an attempt whose run's start the projection has not seen. */
    static final String UNKNOWN_TIER = "unknown";

    private final DynamoDbClient dynamoDb;
    private final String eventsTable;
    private final UsageAggregates aggregates;

    private final OwnedItems owned;

    public UsageProjection(DynamoDbClient dynamoDb, String eventsTable, UsageAggregates aggregates) {
        this(dynamoDb, eventsTable, aggregates, OwnedItems.NONE);
    }

    /**
     * @param owned what the reads of usage events may answer from: an organization's items are written only by the
     *              segment that handles the organization (decision 88)
     */
    public UsageProjection(DynamoDbClient dynamoDb, String eventsTable, UsageAggregates aggregates, OwnedItems owned) {
        this.dynamoDb = dynamoDb;
        this.eventsTable = eventsTable;
        this.aggregates = aggregates;
        this.owned = owned;
    }

    public UsageAggregates aggregates() {
        return aggregates;
    }

    public String eventsTable() {
        return eventsTable;
    }

    @EventHandler
    void on(RunStarted event, @MessageIdentifier String id, @Timestamp Instant at) {
        String org = event.organization().value();
        String tier = event.settings().executionMode();
        put(stateKey("run#" + event.runId().value()), Map.of("tier", AttributeValue.fromS(tier)));
        meterPending(event.runId().value(), tier);
        Map<String, AttributeValue> usageKey = usageEventKey(org, at, id);
        // read, not presumed (decision 93): one per run, not per task
        if (DynamoWrites.get(dynamoDb, eventsTable, usageKey, owned).isPresent()) {
            return;   // metered before
        }
        Map<String, AttributeValue> usage = new HashMap<>(usageKey);
        usage.put("kind", AttributeValue.fromS("run_started"));
        usage.put("org_id", AttributeValue.fromS(org));
        usage.put("run_id", AttributeValue.fromS(event.runId().value()));
        usage.put("tier", AttributeValue.fromS(tier));
        usage.put("timestamp", AttributeValue.fromS(at.toString()));
        DynamoWrites.put(dynamoDb, eventsTable, usage, usageKey, owned);
        aggregates.add(org, at, id, Map.of(RUNS_STARTED, 1L));
    }

    @EventHandler
    void on(TaskAttemptDispatched event, @Timestamp Instant at, ReplayStatus replay) {
        Map<String, AttributeValue> key = attemptKey(event.taskRunId(), event.attempt());
        // only this event creates the attempt's state: presumed absent without a read, created on that condition
        if (read(key, replay).isPresent()) {
            return;
        }
        String tier = runTier(event.taskRunId());
        Map<String, AttributeValue> state = new LinkedHashMap<>(key);
        state.put("tier", AttributeValue.fromS(tier));
        state.put("backend", AttributeValue.fromS(event.spec().backend().type().wire()));
        state.put("dispatched_at", AttributeValue.fromS(at.toString()));
        DynamoWrites.create(dynamoDb, eventsTable, state, key, owned);
    }

    @EventHandler
    void on(TaskAttemptStarted event, @Timestamp Instant at) {
        Map<String, AttributeValue> key = attemptKey(event.taskRunId(), event.attempt());
        DynamoWrites.get(dynamoDb, eventsTable, key, owned).filter(state -> !state.containsKey("started_at")).ifPresent(state -> {
            Map<String, AttributeValue> started = new HashMap<>(state);
            started.put("started_at", AttributeValue.fromS(at.toString()));
            DynamoWrites.put(dynamoDb, eventsTable, started, key, owned);
        });
    }

    @EventHandler
    void on(TaskAttemptSucceeded event, @Timestamp Instant at, MetaData metaData) {
        ended(event.taskRunId(), event.attempt(), at, metaData, "succeeded");
    }

    @EventHandler
    void on(TaskAttemptFailed event, @Timestamp Instant at, MetaData metaData) {
        ended(event.taskRunId(), event.attempt(), at, metaData, "timeout".equals(event.errorKind()) ? "timed_out" : "failed");
    }

    /** A cancel ends the attempt in flight without a failure of its own. */
    @EventHandler
    void on(TaskRunFinished event, @Timestamp Instant at, MetaData metaData) {
        if (event.outcome() == TaskStatus.CANCELLED && event.attempts() > 0) {
            ended(event.taskRunId(), event.attempts(), at, metaData, "cancelled");
        }
    }

    /** Replays go to fresh tables (docs/usage.md); the live totals are never reset in place. */
    @ResetHandler
    void onReset() {
        // facts already metered stay metered: a reset processor adds nothing twice
    }

    private void ended(TaskRunId taskRunId, int attempt, Instant at, MetaData metaData, String outcome) {
        Object orgValue = metaData.get(MessageKeys.ORG_ID);
        if (!(orgValue instanceof String org) || org.isBlank()) {
            return;
        }
        Map<String, AttributeValue> key = attemptKey(taskRunId, attempt);
        Optional<Map<String, AttributeValue>> found = DynamoWrites.get(dynamoDb, eventsTable, key, owned);
        if (found.isEmpty() || found.get().containsKey("metered") || found.get().containsKey("ended_at")) {
            return;   // never dispatched (nothing ran), metered before, or waiting for its run's tier
        }
        Map<String, AttributeValue> state = new HashMap<>(found.get());
        state.put("ended_at", AttributeValue.fromS(at.toString()));
        state.put("outcome", AttributeValue.fromS(outcome));
        state.put("org_id", AttributeValue.fromS(org));
        String tier = state.get("tier").s();
        if (UNKNOWN_TIER.equals(tier)) {
            tier = runTier(taskRunId);
        }
        if (UNKNOWN_TIER.equals(tier)) {
            // the run's start has not been handled yet: the stream merges the event store's shards batch by batch,
            // so a replay may read a task's events before its run's start. RunStarted meters it (same outcome)
            DynamoWrites.put(dynamoDb, eventsTable, state, key, owned);
            String runId = taskRunId.runId().value();
            Map<String, AttributeValue> pendingKey = stateKey("pending#" + runId);
            List<AttributeValue> pending = new ArrayList<>(DynamoWrites.get(dynamoDb, eventsTable, pendingKey, owned)
                    .map(item -> item.get("attempts").l()).orElse(List.of()));
            pending.add(AttributeValue.fromM(Map.of("task_run", AttributeValue.fromS(taskRunId.value()),
                    "attempt", AttributeValue.fromN(Integer.toString(attempt)))));
            put(pendingKey, Map.of("attempts", AttributeValue.fromL(pending)));
            return;
        }
        meter(taskRunId, attempt, state, tier);
    }

    /** Attempts that ended before their run's start was handled, metered now with the run's tier. */
    private void meterPending(String runId, String tier) {
        Map<String, AttributeValue> pendingKey = stateKey("pending#" + runId);
        var pending = DynamoWrites.get(dynamoDb, eventsTable, pendingKey, owned).map(item -> item.get("attempts").l())
                .orElse(List.of());
        if (pending.isEmpty()) {
            return;
        }
        for (AttributeValue entry : pending) {
            TaskRunId taskRunId = new TaskRunId(entry.m().get("task_run").s());
            int attempt = Integer.parseInt(entry.m().get("attempt").n());
            DynamoWrites.get(dynamoDb, eventsTable, attemptKey(taskRunId, attempt), owned)
                    .filter(state -> !state.containsKey("metered"))
                    .ifPresent(state -> meter(taskRunId, attempt, new HashMap<>(state), tier));
        }
        put(pendingKey, Map.of("attempts", AttributeValue.fromL(List.of())));
    }

    /** Writes the attempt's usage event and adds it to the totals; {@code state} holds its times and outcome. */
    private void meter(TaskRunId taskRunId, int attempt, Map<String, AttributeValue> state, String tier) {
        String org = state.get("org_id").s();
        Instant at = Instant.parse(state.get("ended_at").s());
        String outcome = state.get("outcome").s();
        Instant from = Instant.parse((state.containsKey("started_at") ? state.get("started_at") : state.get("dispatched_at")).s());
        long billableMs = Math.max(0, Duration.between(from, at).toMillis());
        String backend = state.get("backend").s();
        Map<String, AttributeValue> metered = new HashMap<>(state);
        metered.put("metered", AttributeValue.fromBool(true));
        metered.put("tier", AttributeValue.fromS(tier));
        Map<String, AttributeValue> key = attemptKey(taskRunId, attempt);
        DynamoWrites.put(dynamoDb, eventsTable, metered, key, owned);

        String fact = "attempt#" + taskRunId + "#" + attempt;
        Map<String, AttributeValue> usageKey = usageEventKey(org, at, fact);
        Map<String, AttributeValue> usage = new HashMap<>(usageKey);
        usage.put("kind", AttributeValue.fromS("task_attempt"));
        usage.put("org_id", AttributeValue.fromS(org));
        usage.put("run_id", AttributeValue.fromS(taskRunId.runId().value()));
        usage.put("task_id", AttributeValue.fromS(taskRunId.taskId()));
        usage.put("attempt", AttributeValue.fromN(Integer.toString(attempt)));
        usage.put("outcome", AttributeValue.fromS(outcome));
        usage.put("tier", AttributeValue.fromS(tier));
        usage.put("backend", AttributeValue.fromS(backend));
        usage.put("billable_ms", AttributeValue.fromN(Long.toString(billableMs)));
        usage.put("timestamp", AttributeValue.fromS(at.toString()));
        DynamoWrites.put(dynamoDb, eventsTable, usage, usageKey, owned);
        aggregates.add(org, at, fact, Map.of(attemptsMetric(tier, backend), 1L, billableMetric(tier, backend), billableMs));
    }

    /**
     * An item that only the event being handled creates: presumed absent (decision 93), except in a replay, which
     * finds what the first handling wrote and would otherwise fail a commit per batch to learn it.
     */
    private Optional<Map<String, AttributeValue>> read(Map<String, AttributeValue> key, ReplayStatus replay) {
        return replay.isReplay() ? DynamoWrites.get(dynamoDb, eventsTable, key, owned)
                : DynamoWrites.getNew(dynamoDb, eventsTable, key, owned);
    }

    private String runTier(TaskRunId taskRunId) {
        return DynamoWrites.get(dynamoDb, eventsTable, stateKey("run#" + taskRunId.runId().value()), owned)
                .map(item -> item.get("tier").s()).orElse(UNKNOWN_TIER);
    }

    public static String attemptsMetric(String tier, String backend) {
        return "task_attempts:" + tier + ":" + backend;
    }

    public static String billableMetric(String tier, String backend) {
        return "billable_ms:" + tier + ":" + backend;
    }

    private void put(Map<String, AttributeValue> key, Map<String, AttributeValue> attributes) {
        Map<String, AttributeValue> item = new HashMap<>(attributes);
        item.putAll(key);
        DynamoWrites.put(dynamoDb, eventsTable, item, key, owned);
    }

    static Map<String, AttributeValue> usageEventKey(String org, Instant at, String fact) {
        return Map.of("pk", AttributeValue.fromS("usage-events#" + org + "#" + UsageAggregates.Granularity.DAY.periodOf(at)),
                "sk", AttributeValue.fromS(at + "#" + fact));
    }

    static Map<String, AttributeValue> attemptKey(TaskRunId taskRunId, int attempt) {
        return Map.of("pk", AttributeValue.fromS("usage-attempt#" + taskRunId), "sk", AttributeValue.fromS(Integer.toString(attempt)));
    }

    static Map<String, AttributeValue> stateKey(String what) {
        return Map.of("pk", AttributeValue.fromS("usage-state#" + what), "sk", AttributeValue.fromS("state"));
    }
}
