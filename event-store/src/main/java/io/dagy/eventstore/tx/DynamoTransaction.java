package io.dagy.eventstore.tx;

import org.axonframework.common.transaction.Transaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionCheck;
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

    private final DynamoDbClient dynamoDb;
    private final Runnable unbind;
    private final Map<ItemKey, PendingWrite> writes = new LinkedHashMap<>();
    private final List<Runnable> afterCommit = new ArrayList<>();
    private final Map<Object, Object> resources = new java.util.HashMap<>();
    private boolean rollbackOnly;
    private boolean completed;

    DynamoTransaction(DynamoDbClient dynamoDb, Runnable unbind) {
        this.dynamoDb = dynamoDb;
        this.unbind = unbind;
    }

    /**
     * Adds a write. {@code onConditionFailed} turns a failed condition of this very write into the exception the
     * store's callers expect (for example Axon's {@code UnableToClaimTokenException}).
     */
    public void write(ItemKey key, TransactWriteItem item, Function<String, RuntimeException> onConditionFailed) {
        requireOpen();
        writes.put(key, new PendingWrite(key, item, onConditionFailed, false, false, null));
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
        writes.put(key, new PendingWrite(key, item, onConditionFailed, true, false, guard));
    }

    /**
     * Adds a progress write that is dropped, rather than failing the commit, if its condition does not hold when the
     * transaction commits (releasing a claim that another node has taken meanwhile changes nothing).
     */
    public void writeLastUnlessRefused(ItemKey key, TransactWriteItem item) {
        requireOpen();
        writes.put(key, new PendingWrite(key, item, IllegalStateException::new, true, true, null));
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
        if (rollbackOnly) {
            throw new DynamoTransactionException("a nested unit of work rolled back; nothing was written", null);
        }
        if (writes.isEmpty()) {
            afterCommit.forEach(Runnable::run);
            return;
        }
        if (writes.size() <= MAX_ITEMS) {
            transact(List.copyOf(writes.values()));
        } else {
            commitInParts();
        }
        afterCommit.forEach(Runnable::run);
    }

    @Override
    public void rollback() {
        if (!completed) {
            completed = true;
            unbind.run();
        }
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
                        if (!write.optional()) {
                            RuntimeException translated = write.onConditionFailed().apply(
                                    "condition failed on " + write.key());
                            translated.addSuppressed(cancelled);
                            throw translated;
                        }
                        refused.add(write);
                    }
                }
                if (!refused.isEmpty()) {
                    log.debug("Dropping {} writes whose conditions no longer hold and committing the rest", refused.size());
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

    /**
     * More items than one DynamoDB transaction holds (a large batch of events): the effects go first, in parts of
     * {@link #MAX_ITEMS}, and the progress writes ({@link #writeLast}) last, in one part. Every part of effects also
     * checks the guards of the progress writes (a processor's claim), so effects stop landing as soon as the progress
     * could not be written. A crash between parts (or a claim lost between them) leaves some effects written and the
     * token where it was, so the batch's events are handled again: processors' handlers are idempotent for that
     * (views check sequence numbers, dispatches carry their ids).
     */
    private void commitInParts() {
        List<PendingWrite> effects = writes.values().stream().filter(write -> !write.last()).toList();
        List<PendingWrite> progress = writes.values().stream().filter(PendingWrite::last).toList();
        List<PendingWrite> guards = progress.stream().filter(write -> write.guard() != null)
                .map(write -> new PendingWrite(write.key(), TransactWriteItem.builder().conditionCheck(write.guard()).build(),
                        write.onConditionFailed(), false, false, null))
                .toList();
        int partSize = MAX_ITEMS - guards.size();
        if (progress.size() > MAX_ITEMS || partSize <= 0) {
            throw new TransactionTooLargeException("a unit of work recorded progress in " + progress.size()
                    + " items; one DynamoDB transaction holds at most " + MAX_ITEMS + " items with the checks its effects"
                    + " need. Nothing was written.");
        }
        log.info("A unit of work writes {} items, more than one DynamoDB transaction holds; committing it in parts",
                writes.size());
        for (int from = 0; from < effects.size(); from += partSize) {
            List<PendingWrite> part = new ArrayList<>(effects.subList(from, Math.min(effects.size(), from + partSize)));
            part.addAll(guards);
            transact(part);
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
     * {@code optional}: dropped if its condition fails; {@code guard}: the check that effects in other parts carry.
     */
    public record PendingWrite(ItemKey key, TransactWriteItem item, Function<String, RuntimeException> onConditionFailed,
                               boolean last, boolean optional, ConditionCheck guard) {
    }
}
