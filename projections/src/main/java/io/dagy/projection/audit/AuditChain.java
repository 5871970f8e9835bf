package io.dagy.projection.audit;

import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransactionException;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.eventstore.tx.DynamoWrites;
import org.axonframework.common.transaction.Transaction;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * The audit log of every organization in {@code DAGY_AUDIT_LOGS}: its key layout, its item codec, the one way to
 * append to a chain, and the reads (pages, verification). docs/audit.md describes it.
 *
 * <p>Items, per organization {@code <org>}:
 * <ul>
 *     <li>{@code pk = audit#<org>}, {@code sk = <seq, 12 digits>}: the records, in chain order;</li>
 *     <li>{@code pk = audit-head#<org>}, {@code sk = head}: the chain head, {@code seq} and {@code hash} of the last
 *     record;</li>
 *     <li>{@code pk = audit-id#<org>}, {@code sk = <audit id>}: which {@code seq} holds an audit id, so an event
 *     delivered twice is chained once.</li>
 * </ul>
 *
 * <p>An append writes the record, its id item and the new head in one transaction, the head conditioned on the head
 * it read ({@code seq = :base}, or absent for the first record). Two writers (two segments, two nodes) that read the
 * same head cannot both commit: the loser's transaction is cancelled whole, it writes nothing, and it appends again
 * after the winner. So a chain never forks and never loses a link. Inside a processor's transaction the append joins
 * it (a conflict fails the batch, which Axon handles again); outside one it commits alone and retries.
 */
public final class AuditChain {

    private static final int ATTEMPTS = 50;
    private static final String HEAD_SK = "head";

    private final DynamoDbClient dynamoDb;
    private final String table;

    public AuditChain(DynamoDbClient dynamoDb, String table) {
        this.dynamoDb = dynamoDb;
        this.table = table;
    }

    public String table() {
        return table;
    }

    /** The head of an organization's chain: the last record's place and hash ({@code 0} and genesis when empty). */
    public record Head(long seq, String hash) {
        static final Head EMPTY = new Head(0, AuditRecord.GENESIS);
    }

    /**
     * Chains the draft after the organization's head, unless its audit id is chained already (a redelivered event).
     * Returns the chained record, or empty when it was there.
     */
    public Optional<AuditRecord> append(AuditRecord draft) {
        if (DynamoTransactionManager.current().isPresent()) {
            return appendIn(DynamoTransactionManager.current().get(), draft);
        }
        DynamoTransactionManager transactions = new DynamoTransactionManager(dynamoDb);
        for (int attempt = 1; ; attempt++) {
            Transaction transaction = transactions.startTransaction();
            try {
                Optional<AuditRecord> chained = appendIn(DynamoTransactionManager.current().orElseThrow(), draft);
                transaction.commit();
                return chained;
            } catch (DynamoTransactionException conflict) {
                transaction.rollback();
                if (attempt >= ATTEMPTS) {
                    throw conflict;
                }
                pause(attempt);
            } catch (RuntimeException failure) {
                transaction.rollback();
                throw failure;
            }
        }
    }

    private Optional<AuditRecord> appendIn(DynamoTransaction transaction, AuditRecord draft) {
        String org = draft.orgId();
        if (DynamoWrites.get(dynamoDb, table, idKey(org, draft.auditId())).isPresent()) {
            return Optional.empty();   // chained before: an event delivered again
        }
        Map<String, AttributeValue> headKey = headKey(org);
        DynamoTransaction.ItemKey headItemKey = new DynamoTransaction.ItemKey(table, headKey);
        Head head;
        String condition;
        Map<String, AttributeValue> conditionValues;
        var pending = transaction.pending(headItemKey).map(write -> write.item().put());
        if (pending.isPresent()) {
            // an earlier event of this batch moved the head: keep its condition on the head as the table holds it
            head = headOf(pending.get().item());
            condition = pending.get().conditionExpression();
            conditionValues = pending.get().hasExpressionAttributeValues() ? pending.get().expressionAttributeValues() : null;
        } else {
            var stored = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(headKey)).item();
            if (stored == null || stored.isEmpty()) {
                head = Head.EMPTY;
                condition = "attribute_not_exists(pk)";
                conditionValues = null;
            } else {
                head = headOf(stored);
                condition = "seq = :base";
                conditionValues = Map.of(":base", stored.get("seq"));
            }
        }
        AuditRecord record = draft.chainedAfter(head.seq() + 1, head.hash());
        Map<String, AttributeValue> item = toItem(record);
        transaction.write(new DynamoTransaction.ItemKey(table, Map.of("pk", item.get("pk"), "sk", item.get("sk"))),
                put(item, "attribute_not_exists(pk)", null), this::conflict);
        Map<String, AttributeValue> idItem = new HashMap<>(idKey(org, record.auditId()));
        idItem.put("seq", AttributeValue.fromN(Long.toString(record.seq())));
        transaction.write(new DynamoTransaction.ItemKey(table, idKey(org, record.auditId())),
                put(idItem, "attribute_not_exists(pk)", null), this::conflict);
        Map<String, AttributeValue> headItem = new HashMap<>(headKey);
        headItem.put("seq", AttributeValue.fromN(Long.toString(record.seq())));
        headItem.put("hash", AttributeValue.fromS(record.hash()));
        transaction.write(headItemKey, put(headItem, condition, conditionValues), this::conflict);
        return Optional.of(record);
    }

    private RuntimeException conflict(String message) {
        return new DynamoTransactionException("another writer moved the audit chain first (" + message
                + "); nothing was written, append again", null);
    }

    private TransactWriteItem put(Map<String, AttributeValue> item, String condition, Map<String, AttributeValue> values) {
        Put.Builder put = Put.builder().tableName(table).item(item).conditionExpression(condition);
        if (values != null && !values.isEmpty()) {
            put.expressionAttributeValues(values);
        }
        return TransactWriteItem.builder().put(put.build()).build();
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(1, 5L + Math.min(attempt, 10) * 5L));
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while appending to the audit chain", interrupted);
        }
    }

    // ---- reads

    /** The organization's chain head (strongly consistent). */
    public Head head(String org) {
        var stored = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(headKey(org))).item();
        return stored == null || stored.isEmpty() ? Head.EMPTY : headOf(stored);
    }

    /** A page of records in chain order after {@code afterSeq}, and the last {@code seq} examined. */
    public record Page(List<AuditRecord> records, long lastSeq, boolean more) {
    }

    /**
     * Records after {@code afterSeq} that pass {@code filter}, up to {@code limit} of them, examining at most
     * {@code scanLimit} records (so a page with a narrow filter stays bounded; {@code more} says whether to go on).
     */
    public Page page(String org, long afterSeq, int limit, int scanLimit, Predicate<AuditRecord> filter) {
        List<AuditRecord> records = new ArrayList<>();
        long last = afterSeq;
        int examined = 0;
        Map<String, AttributeValue> start = null;
        while (true) {
            QueryRequest.Builder query = QueryRequest.builder().tableName(table).consistentRead(true)
                    .keyConditionExpression("pk = :pk AND sk > :after")
                    .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(recordPartition(org)),
                            ":after", AttributeValue.fromS(sortKey(afterSeq))))
                    .limit(Math.min(100, scanLimit - examined));
            if (start != null) {
                query.exclusiveStartKey(start);
            }
            QueryResponse response = dynamoDb.query(query.build());
            for (var item : response.items()) {
                AuditRecord record = fromItem(item);
                examined++;
                last = record.seq();
                if (filter.test(record)) {
                    records.add(record);
                    if (records.size() >= limit) {
                        return new Page(records, last, true);
                    }
                }
            }
            start = response.hasLastEvaluatedKey() && !response.lastEvaluatedKey().isEmpty() ? response.lastEvaluatedKey() : null;
            if (start == null) {
                return new Page(records, last, false);
            }
            if (examined >= scanLimit) {
                return new Page(records, last, true);
            }
        }
    }

    /** The first record that does not match its chain, and why; or none. */
    public record Mismatch(long seq, String auditId, String problem) {
    }

    /** What a verification found: records checked, the first mismatch if any, and the head. */
    public record Verification(long checked, Optional<Mismatch> firstMismatch, Head head) {
    }

    /**
     * Walks the organization's chain from its start and recomputes it: every record's hash from its fields, every
     * link to the record before, no place missing, and the head on the last record. Only records whose time is within
     * {@code [from, to)} (either may be null) are reported; the walk covers the whole chain, since a record's link
     * depends on every record before it.
     */
    public Verification verify(String org, Instant from, Instant to) {
        Head head = head(org);
        long expectedSeq = 1;
        String expectedPrev = AuditRecord.GENESIS;
        long checked = 0;
        Map<String, AttributeValue> start = null;
        do {
            QueryRequest.Builder query = QueryRequest.builder().tableName(table).consistentRead(true)
                    .keyConditionExpression("pk = :pk")
                    .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(recordPartition(org))));
            if (start != null) {
                query.exclusiveStartKey(start);
            }
            QueryResponse response = dynamoDb.query(query.build());
            for (var item : response.items()) {
                AuditRecord record;
                long storedSeq = Long.parseLong(item.get("sk").s());
                try {
                    record = fromItem(item);
                } catch (RuntimeException unreadable) {
                    return new Verification(checked, Optional.of(new Mismatch(storedSeq, text(item, "audit_id"),
                            "the record cannot be read: " + unreadable.getMessage())), head);
                }
                boolean inRange = (from == null || !record.timestamp().isBefore(from))
                        && (to == null || record.timestamp().isBefore(to));
                String problem = null;
                if (storedSeq != expectedSeq) {
                    problem = "record " + expectedSeq + " is missing";
                } else if (record.seq() != storedSeq) {
                    problem = "the record's seq was changed";
                } else if (!record.prevHash().equals(expectedPrev)) {
                    problem = "prev_hash does not match the hash of record " + (expectedSeq - 1);
                } else if (!record.computedHash().equals(record.hash())) {
                    problem = "the record's fields do not give its hash: it was changed";
                }
                if (problem != null && (inRange || storedSeq != expectedSeq)) {
                    return new Verification(checked, Optional.of(new Mismatch(storedSeq, record.auditId(), problem)), head);
                }
                if (inRange) {
                    checked++;
                }
                expectedSeq = storedSeq + 1;
                expectedPrev = record.hash();
            }
            start = response.hasLastEvaluatedKey() && !response.lastEvaluatedKey().isEmpty() ? response.lastEvaluatedKey() : null;
        } while (start != null);
        if (head.seq() != expectedSeq - 1 || !head.hash().equals(expectedPrev)) {
            return new Verification(checked, Optional.of(new Mismatch(head.seq(), null,
                    "the chain head names record " + head.seq() + " but the chain ends at record " + (expectedSeq - 1)
                            + " or with another hash")), head);
        }
        return new Verification(checked, Optional.empty(), head);
    }

    // ---- keys and codec

    static String recordPartition(String org) {
        return "audit#" + org;
    }

    static String sortKey(long seq) {
        return String.format("%012d", seq);
    }

    static Map<String, AttributeValue> headKey(String org) {
        return Map.of("pk", AttributeValue.fromS("audit-head#" + org), "sk", AttributeValue.fromS(HEAD_SK));
    }

    static Map<String, AttributeValue> idKey(String org, String auditId) {
        return Map.of("pk", AttributeValue.fromS("audit-id#" + org), "sk", AttributeValue.fromS(auditId));
    }

    /** The key of a stored record, for tools (and tests) that address one record. */
    public static Map<String, AttributeValue> recordKey(String org, long seq) {
        return Map.of("pk", AttributeValue.fromS(recordPartition(org)), "sk", AttributeValue.fromS(sortKey(seq)));
    }

    private static Head headOf(Map<String, AttributeValue> item) {
        return new Head(Long.parseLong(item.get("seq").n()), item.get("hash").s());
    }

    static Map<String, AttributeValue> toItem(AuditRecord record) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("pk", AttributeValue.fromS(recordPartition(record.orgId())));
        item.put("sk", AttributeValue.fromS(sortKey(record.seq())));
        item.put("seq", AttributeValue.fromN(Long.toString(record.seq())));
        putText(item, "audit_id", record.auditId());
        putText(item, "timestamp", record.timestamp().toString());
        putText(item, "org_id", record.orgId());
        putText(item, "user_id", record.userId());
        putText(item, "actor_kind", record.actorKind());
        putText(item, "action", record.action());
        putText(item, "resource_type", record.resourceType());
        putText(item, "resource_id", record.resourceId());
        Map<String, AttributeValue> changes = new HashMap<>();
        record.changes().forEach((name, change) -> changes.put(name, AttributeValue.fromM(Map.of(
                "old", value(change.oldValue()), "new", value(change.newValue())))));
        item.put("changes", AttributeValue.fromM(changes));
        putText(item, "ip_address", record.ipAddress());
        putText(item, "user_agent", record.userAgent());
        putText(item, "status", record.status());
        putText(item, "reason", record.reason());
        putText(item, "prev_hash", record.prevHash());
        putText(item, "hash", record.hash());
        return item;
    }

    static AuditRecord fromItem(Map<String, AttributeValue> item) {
        TreeMap<String, AuditRecord.Change> changes = new TreeMap<>();
        if (item.containsKey("changes")) {
            item.get("changes").m().forEach((name, change) -> changes.put(name,
                    new AuditRecord.Change(text(change.m(), "old"), text(change.m(), "new"))));
        }
        return new AuditRecord(text(item, "audit_id"), Long.parseLong(item.get("seq").n()),
                Instant.parse(text(item, "timestamp")), text(item, "org_id"), text(item, "user_id"),
                text(item, "actor_kind"), text(item, "action"), text(item, "resource_type"), text(item, "resource_id"),
                changes, text(item, "ip_address"), text(item, "user_agent"), text(item, "status"), text(item, "reason"),
                text(item, "prev_hash"), text(item, "hash"));
    }

    private static AttributeValue value(String text) {
        return text == null ? AttributeValue.fromNul(true) : AttributeValue.fromS(text);
    }

    private static void putText(Map<String, AttributeValue> item, String name, String value) {
        if (value != null) {
            item.put(name, AttributeValue.fromS(value));
        }
    }

    private static String text(Map<String, AttributeValue> item, String name) {
        AttributeValue value = item.get(name);
        return value == null || value.s() == null ? null : value.s();
    }
}
