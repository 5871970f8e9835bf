package io.dagy.eventstore.tx;

import org.axonframework.common.transaction.Transaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionCheck;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Writes collected on one thread and committed atomically. Each item may be written once per transaction (a
 * DynamoDB rule): a second write of the same item replaces the first, so a store that changes an item twice in one
 * unit of work must build the combined write itself (see {@link #pending(ItemKey)}).
 *
 * <p>A commit that DynamoDB cancels only because of a transaction conflict (another transaction was writing one of
 * the items) is sent again, up to {@link TransactionConflicts#ATTEMPTS} times, then fails with the transient
 * {@link DynamoTransactionException}: nothing of a cancelled transaction is written, and its conditions are checked
 * anew.
 */
public final class DynamoTransaction implements Transaction {

    private static final Logger log = LoggerFactory.getLogger(DynamoTransaction.class);

    /** DynamoDB's limit of actions in one {@code TransactWriteItems}. */
    public static final int MAX_ITEMS = 100;
    /**
     * The bytes we let one {@code TransactWriteItems} carry, by our estimate ({@link WriteSizes}): DynamoDB's limit is
     * 4 MB; the margin covers what the estimate does not see (an update's resulting item, request framing).
     */
    public static final long MAX_BYTES = 3_800_000;
    /** DynamoDB's limit for one item, 400 KB. */
    public static final long MAX_ITEM_BYTES = 400 * 1024;

    private final DynamoDbClient dynamoDb;
    private final Runnable unbind;
    private final Map<ItemKey, PendingWrite> writes = new LinkedHashMap<>();
    private final List<Runnable> afterCommit = new ArrayList<>();
    private final List<Runnable> ifNotCommitted = new ArrayList<>();
    private final Map<Object, Object> resources = new java.util.HashMap<>();
    /** Items the unit of work relied on not existing ({@link #requireAbsent}). */
    private final java.util.Set<ItemKey> mustBeAbsent = new java.util.LinkedHashSet<>();
    /** Sends this commit with others that are ready at the same moment, or null (decision 98). */
    private final TransactionCombiner combiner;
    private boolean rollbackOnly;
    private boolean completed;

    DynamoTransaction(DynamoDbClient dynamoDb, Runnable unbind) {
        this(dynamoDb, unbind, null);
    }

    DynamoTransaction(DynamoDbClient dynamoDb, Runnable unbind, TransactionCombiner combiner) {
        this.dynamoDb = dynamoDb;
        this.unbind = unbind;
        this.combiner = combiner;
    }

    /**
     * Adds a write. {@code onConditionFailed} turns a failed condition of this very write into the exception the
     * store's callers expect (for example Axon's {@code UnableToClaimTokenException}).
     */
    public void write(ItemKey key, TransactWriteItem item, Function<String, RuntimeException> onConditionFailed) {
        requireOpen();
        write(key, item, null, onConditionFailed);
    }

    /**
     * Adds a write that belongs with others of the same {@code group} (a saga's state, its associations and its
     * deadlines): should the transaction have to be split, a group's writes all go in the same part.
     */
    public void write(ItemKey key, TransactWriteItem item, String group,
                      Function<String, RuntimeException> onConditionFailed) {
        requireOpen();
        writes.put(key, new PendingWrite(key, item, onConditionFailed, false, false, null, group));
    }

    /**
     * Adds a write that records progress (a processor's token): should the transaction ever have to be split, it goes
     * in the last part, after every effect it stands for.
     */
    public void writeLast(ItemKey key, TransactWriteItem item, Function<String, RuntimeException> onConditionFailed) {
        writeLast(key, item, null, onConditionFailed);
    }

    /**
     * Adds a progress write whose condition the effects depend on (a processor's token, written only while this node
     * still holds its claim). {@code guard} checks that condition on the same item: should the transaction have to be
     * split, every part of effects carries it, so no effect lands once the condition fails.
     */
    public void writeLast(ItemKey key, TransactWriteItem item, ConditionCheck guard,
                          Function<String, RuntimeException> onConditionFailed) {
        requireOpen();
        writes.put(key, new PendingWrite(key, item, onConditionFailed, true, false, guard, null));
    }

    /**
     * Adds a progress write that is dropped, rather than failing the commit, if its condition does not hold when the
     * transaction commits (releasing a claim that another node has taken meanwhile changes nothing).
     */
    public void writeLastUnlessRefused(ItemKey key, TransactWriteItem item) {
        requireOpen();
        writes.put(key, new PendingWrite(key, item, IllegalStateException::new, true, true, null, null));
    }

    /**
     * The unit of work relied on this item not existing (it was presumed absent without a read, {@link OwnedItems#readNew}):
     * at the commit, the item's put carries {@code attribute_not_exists(pk)}, whatever later writes of the same item made
     * of it, or, with no write of it, a check of that condition joins the transaction; and a refused condition on it
     * is never taken for the same item written before ({@link #alreadyWritten}). A wrong presumption so always refuses
     * the whole commit.
     */
    public void requireAbsent(ItemKey key) {
        requireOpen();
        mustBeAbsent.add(key);
    }

    /** The write already collected for this item, so a store can combine a second change with it. */
    public Optional<PendingWrite> pending(ItemKey key) {
        return Optional.ofNullable(writes.get(key));
    }

    /**
     * State a store keeps for the life of this transaction (for example the changes it has folded per item), created
     * on first use.
     */
    @SuppressWarnings("unchecked")
    public <T> T resource(Object key, java.util.function.Supplier<T> create) {
        requireOpen();
        return (T) resources.computeIfAbsent(key, k -> create.get());
    }

    /** Runs after a successful commit (for example to forget a saga's loaded version). */
    public void afterCommit(Runnable action) {
        requireOpen();
        afterCommit.add(action);
    }

    /**
     * Runs once if this transaction does not commit: it rolls back, or its commit fails (when committed in parts, some
     * may have landed). Kept through {@link #rollbackTo}: what it undoes must be safe to undo for writes that were
     * dropped anyway.
     */
    public void ifNotCommitted(Runnable action) {
        requireOpen();
        ifNotCommitted.add(action);
    }

    private void notCommitted() {
        List<Runnable> actions = List.copyOf(ifNotCommitted);
        ifNotCommitted.clear();
        actions.forEach(Runnable::run);
    }

    /**
     * The writes collected so far, to go back to with {@link #rollbackTo}: what one event's handlers wrote is dropped
     * when the event is parked as a dead letter, while the rest of the batch commits.
     */
    public Savepoint savepoint() {
        requireOpen();
        return new Savepoint(this, new LinkedHashMap<>(writes), afterCommit.size());
    }

    /** Drops every write and after-commit action collected since the savepoint (resources are kept). */
    public void rollbackTo(Savepoint savepoint) {
        requireOpen();
        if (savepoint.transaction() != this) {
            throw new IllegalArgumentException("the savepoint belongs to another transaction");
        }
        writes.clear();
        writes.putAll(savepoint.writes());
        afterCommit.subList(savepoint.afterCommitCount(), afterCommit.size()).clear();
    }

    /** Whether a nested unit of work rolled back, so committing would fail and write nothing. */
    public boolean isRollbackOnly() {
        return rollbackOnly;
    }

    /** A handle for a nested unit of work: joins this transaction, commits nothing itself. */
    Transaction joined() {
        return new Transaction() {
            @Override
            public void commit() {
                // the outermost transaction commits
            }

            @Override
            public void rollback() {
                rollbackOnly = true;
            }
        };
    }

    @Override
    public void commit() {
        requireOpen();
        completed = true;
        unbind.run();
        try {
            commitWrites();
        } catch (RuntimeException | Error failed) {
            notCommitted();
            throw failed;
        }
        ifNotCommitted.clear();
        afterCommit.forEach(Runnable::run);
    }

    private void commitWrites() {
        if (rollbackOnly) {
            throw new DynamoTransactionException("a nested unit of work rolled back; nothing was written", null);
        }
        mustBeAbsent.forEach(this::conditionOnAbsence);
        if (writes.isEmpty()) {
            return;
        }
        for (PendingWrite write : writes.values()) {
            long size = WriteSizes.of(write.item());
            if (size > MAX_ITEM_BYTES) {
                throw new TransactionTooLargeException("a unit of work writes " + write.key() + " of about " + size
                        + " bytes; a DynamoDB item holds at most " + MAX_ITEM_BYTES + ". Nothing was written.");
            }
        }
        if (writes.size() <= MAX_ITEMS && WriteSizes.of(writes.values()) <= MAX_BYTES) {
            List<PendingWrite> all = List.copyOf(writes.values());
            if (combiner == null) {
                transact(all);
            } else {
                combiner.commit(all, () -> transact(all));
            }
        } else {
            commitInParts();
        }
    }

    @Override
    public void rollback() {
        if (!completed) {
            completed = true;
            unbind.run();
        }
        notCommitted();
        writes.clear();
        afterCommit.clear();
        resources.clear();
    }

    private void transact(List<PendingWrite> ordered) {
        List<PendingWrite> sending = new ArrayList<>(ordered);
        int conflicts = 0;
        while (!sending.isEmpty()) {
            List<TransactWriteItem> items = sending.stream().map(PendingWrite::item).toList();
            try {
                dynamoDb.transactWriteItems(b -> b.transactItems(items));
                return;
            } catch (TransactionCanceledException cancelled) {
                List<CancellationReason> reasons = cancelled.hasCancellationReasons()
                        ? cancelled.cancellationReasons() : List.of();
                List<PendingWrite> refused = new ArrayList<>();
                for (int i = 0; i < reasons.size() && i < sending.size(); i++) {
                    if ("ConditionalCheckFailed".equals(reasons.get(i).code())) {
                        PendingWrite write = sending.get(i);
                        if (!mustBeAbsent.contains(write.key()) && alreadyWritten(write)) {
                            log.info("{} already holds exactly what this unit of work writes (a batch handled again"
                                    + " after a crash between the parts of its commit); counting it as written",
                                    write.key());
                            refused.add(write);
                        } else if (!write.optional()) {
                            RuntimeException translated = write.onConditionFailed().apply(
                                    "condition failed on " + write.key());
                            translated.addSuppressed(cancelled);
                            throw translated;
                        }
                        refused.add(write);
                    }
                }
                if (!refused.isEmpty()) {
                    log.debug("Dropping {} writes already written or whose conditions no longer hold; committing the"
                            + " rest", refused.size());
                    sending.removeIf(write -> refused.stream().anyMatch(r -> r == write));
                } else if (TransactionConflicts.onlyConflicts(cancelled) && ++conflicts < TransactionConflicts.ATTEMPTS) {
                    log.debug("Transaction conflicted with another one (attempt {}); sending it again", conflicts);
                    TransactionConflicts.backOff(conflicts);
                } else {
                    throw new DynamoTransactionException("DynamoDB cancelled the transaction"
                            + (conflicts > 0 ? " after " + (conflicts + 1) + " attempts" : "") + ": "
                            + cancelled.getMessage(), cancelled);
                }
            }
        }
    }

    /** Makes the write of an item presumed absent conditional on its absence, or checks its absence (see requireAbsent). */
    private void conditionOnAbsence(ItemKey key) {
        PendingWrite write = writes.get(key);
        Function<String, RuntimeException> exists = detail -> new DynamoTransactionException(
                "item " + key + " was presumed absent but exists (an event handled again); the unit of work is retried"
                        + " and reads it: " + detail, null);
        if (write == null || write.item().delete() != null) {
            // nothing written (a saga started and ended in one unit of work), or a delete of what was never there
            writes.put(key, new PendingWrite(key, TransactWriteItem.builder().conditionCheck(ConditionCheck.builder()
                    .tableName(key.table()).key(key.key()).conditionExpression("attribute_not_exists(pk)").build())
                    .build(), exists, false, false, null, write == null ? null : write.group()));
        } else if (write.item().put() != null) {
            Put put = write.item().put().toBuilder().conditionExpression("attribute_not_exists(pk)")
                    .expressionAttributeNames(null).expressionAttributeValues(null).build();
            writes.put(key, new PendingWrite(key, TransactWriteItem.builder().put(put).build(), exists, write.last(),
                    false, write.guard(), write.group()));
        } else {
            throw new IllegalStateException("an update of " + key + ", which was presumed absent: write it whole");
        }
    }

    /**
     * A put whose condition failed although the item already holds exactly what it would write: an earlier commit of
     * the same writes got that far (a batch handled again after a crash between the parts of its commit, whose saga
     * insert is conditioned on the saga's absence). Writing it again would change nothing, so it counts as written.
     */
    private boolean alreadyWritten(PendingWrite write) {
        if (write.item().put() == null) {
            return false;
        }
        Map<String, AttributeValue> stored = dynamoDb.getItem(b -> b.tableName(write.key().table())
                .consistentRead(true).key(write.key().key())).item();
        return stored != null && !stored.isEmpty() && WriteSizes.sameItem(stored, write.item().put().item());
    }

    /**
     * More than one DynamoDB transaction holds (100 items or 4 MB; a large batch of events): the effects go first, in
     * parts of at most {@link #MAX_ITEMS} items and {@link #MAX_BYTES}, the writes of one group (a saga) always in the
     * same part, and the progress writes ({@link #writeLast}) last, in one part. Every part of effects also checks the
     * guards of the progress writes (a processor's claim), so effects stop landing as soon as the progress could not
     * be written. A crash between parts (or a claim lost between them) leaves some effects written and the token where
     * it was, so the batch's events are handled again: processors' handlers are idempotent for that (views check
     * sequence numbers, dispatches carry their ids), and a conditional put that finds its item already as it would
     * write it counts as written ({@link #alreadyWritten}). The parts are planned before anything is written: a group
     * or the progress that fits no part fails the commit with {@link TransactionTooLargeException}, writing nothing.
     */
    private void commitInParts() {
        List<PendingWrite> effects = writes.values().stream().filter(write -> !write.last()).toList();
        List<PendingWrite> progress = writes.values().stream().filter(PendingWrite::last).toList();
        List<PendingWrite> guards = progress.stream().filter(write -> write.guard() != null)
                .map(write -> new PendingWrite(write.key(), TransactWriteItem.builder().conditionCheck(write.guard()).build(),
                        write.onConditionFailed(), false, false, null, null))
                .toList();
        int partItems = MAX_ITEMS - guards.size();
        long partBytes = MAX_BYTES - WriteSizes.of(guards);
        if (progress.size() > MAX_ITEMS || WriteSizes.of(progress) > MAX_BYTES || partItems <= 0 || partBytes <= 0) {
            throw new TransactionTooLargeException("a unit of work recorded progress in " + progress.size()
                    + " items; one DynamoDB transaction holds at most " + MAX_ITEMS + " items and 4 MB with the checks"
                    + " its effects need. Nothing was written.");
        }
        Map<Object, List<PendingWrite>> groups = new LinkedHashMap<>();
        for (PendingWrite write : effects) {
            groups.computeIfAbsent(write.group() != null ? write.group() : write, g -> new ArrayList<>()).add(write);
        }
        List<List<PendingWrite>> parts = new ArrayList<>();
        List<PendingWrite> part = new ArrayList<>();
        long bytes = 0;
        for (var group : groups.entrySet()) {
            List<PendingWrite> together = group.getValue();
            long size = WriteSizes.of(together);
            if (together.size() > partItems || size > partBytes) {
                throw new TransactionTooLargeException("a unit of work writes " + together.size() + " items of about "
                        + size + " bytes that belong together (" + group.getKey() + "); one DynamoDB transaction"
                        + " holds at most " + partItems + " items and " + partBytes + " bytes besides its checks."
                        + " Nothing was written.");
            }
            if (!part.isEmpty() && (part.size() + together.size() > partItems || bytes + size > partBytes)) {
                parts.add(part);
                part = new ArrayList<>();
                bytes = 0;
            }
            part.addAll(together);
            bytes += size;
        }
        if (!part.isEmpty()) {
            parts.add(part);
        }
        log.info("A unit of work writes {} items, more than one DynamoDB transaction holds; committing it in {} parts",
                writes.size(), parts.size() + (progress.isEmpty() ? 0 : 1));
        for (List<PendingWrite> effectsPart : parts) {
            List<PendingWrite> sending = new ArrayList<>(effectsPart);
            sending.addAll(guards);
            transact(sending);
        }
        if (!progress.isEmpty()) {
            transact(progress);
        }
    }

    private void requireOpen() {
        if (completed) {
            throw new IllegalStateException("the transaction is already completed");
        }
    }

    /**
     * The identity of one item: table and key attributes.
     */
    public record ItemKey(String table, Map<String, AttributeValue> key) {
        public ItemKey {
            key = Map.copyOf(key);
        }
    }

    /** The state of a transaction's writes at one moment (see {@link #savepoint()}). */
    public record Savepoint(DynamoTransaction transaction, Map<ItemKey, PendingWrite> writes, int afterCommitCount) {
    }

    /**
     * A collected write and how to explain its failed condition. {@code last}: progress, committed after the effects;
     * {@code optional}: dropped if its condition fails; {@code guard}: the check that effects in other parts carry;
     * {@code group}: writes that go in the same part (null: none).
     */
    public record PendingWrite(ItemKey key, TransactWriteItem item, Function<String, RuntimeException> onConditionFailed,
                               boolean last, boolean optional, ConditionCheck guard, String group) {
    }
}
