package io.dagy.gateway.billing;

import io.dagy.contracts.identity.OrgId;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The runs an organization has going, for its plan's concurrency limit, in one item of {@code DAGY_SUBSCRIPTIONS}
 * ({@code pk = "concurrency#<org>"}, {@code sk = "runs"}): a map {@code runs} of run id to when its slot was taken.
 * A slot is taken by one conditional update ({@code size(runs) < limit}), so two nodes starting runs at once can never
 * both take the last slot. Slots are freed lazily: when the map is full, each run that has finished (or whose start
 * never got through, {@value #STARTING_SECONDS} s after its slot was taken) is removed, each removal conditioned on the
 * slot being the one it read.
 */
final class ConcurrencySlots {

    static final long STARTING_SECONDS = 120;

    /** What a full organization's runs are, as far as freeing slots is concerned. */
    interface RunState {
        /** Whether the run has finished; empty if no view of it exists (yet). */
        java.util.Optional<Boolean> finished(OrgId org, String runId);
    }

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Clock clock;
    private final RunState runs;

    ConcurrencySlots(DynamoDbClient dynamoDb, String table, Clock clock, RunState runs) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.clock = clock;
        this.runs = runs;
    }

    /** Takes a slot for the run; true if it has one (also if it had one before). */
    boolean acquire(OrgId org, String runId, long limit) {
        if (tryAcquire(org, runId, limit)) {
            return true;
        }
        if (free(org) == 0) {
            return false;
        }
        return tryAcquire(org, runId, limit);
    }

    /** Gives the run's slot back (its start failed). */
    void release(OrgId org, String runId) {
        dynamoDb.updateItem(b -> b.tableName(table).key(key(org)).updateExpression("REMOVE runs.#r")
                .expressionAttributeNames(Map.of("#r", runId)));
    }

    /** The runs holding slots, after freeing those of finished runs. */
    int inUse(OrgId org) {
        free(org);
        return held(org).size();
    }

    private boolean tryAcquire(OrgId org, String runId, long limit) {
        ensureItem(org);
        try {
            dynamoDb.updateItem(b -> b.tableName(table).key(key(org))
                    .updateExpression("SET runs.#r = :now")
                    .conditionExpression("attribute_exists(runs.#r) OR size(runs) < :limit")
                    .expressionAttributeNames(Map.of("#r", runId))
                    .expressionAttributeValues(Map.of(":now", AttributeValue.fromN(Long.toString(clock.millis())),
                            ":limit", AttributeValue.fromN(Long.toString(limit)))));
            return true;
        } catch (ConditionalCheckFailedException full) {
            return false;
        }
    }

    private void ensureItem(OrgId org) {
        try {
            dynamoDb.putItem(b -> b.tableName(table)
                    .item(Map.of("pk", key(org).get("pk"), "sk", key(org).get("sk"), "runs", AttributeValue.fromM(Map.of())))
                    .conditionExpression("attribute_not_exists(pk)"));
        } catch (ConditionalCheckFailedException exists) {
            // the usual case
        }
    }

    private Map<String, AttributeValue> held(OrgId org) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(key(org))).item();
        return item == null || !item.containsKey("runs") ? Map.of() : item.get("runs").m();
    }

    /** Removes the slots of finished runs; returns how many it removed. */
    private int free(OrgId org) {
        Instant now = clock.instant();
        int freed = 0;
        for (var slot : held(org).entrySet()) {
            Instant taken = Instant.ofEpochMilli(Long.parseLong(slot.getValue().n()));
            var finished = runs.finished(org, slot.getKey());
            Predicate<Boolean> done = Boolean::booleanValue;
            boolean gone = finished.map(done::test)
                    .orElse(Duration.between(taken, now).getSeconds() > STARTING_SECONDS);
            if (gone) {
                try {
                    dynamoDb.updateItem(b -> b.tableName(table).key(key(org)).updateExpression("REMOVE runs.#r")
                            .conditionExpression("runs.#r = :taken")
                            .expressionAttributeNames(Map.of("#r", slot.getKey()))
                            .expressionAttributeValues(Map.of(":taken", slot.getValue())));
                    freed++;
                } catch (ConditionalCheckFailedException changed) {
                    // freed by another node, or taken again by a retried start
                }
            }
        }
        return freed;
    }

    private static Map<String, AttributeValue> key(OrgId org) {
        return Map.of("pk", AttributeValue.fromS("concurrency#" + org.value()), "sk", AttributeValue.fromS("runs"));
    }
}
