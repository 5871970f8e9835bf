package io.dagy.eventstore.tx;

import org.axonframework.common.transaction.Transaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
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
        writes.put(key, new PendingWrite(key, item, onConditionFailed, false));
    }

    /**
     * Adds a write that records progress (a processor's token): should the transaction ever have to be split, it goes
     * in the last part, after every effect it stands for.
     */
    public void writeLast(ItemKey key, TransactWriteItem item, Function<String, RuntimeException> onConditionFailed) {
        requireOpen();
        writes.put(key, new PendingWrite(key, item, onConditionFailed, true));
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
        try {
            dynamoDb.transactWriteItems(b -> b.transactItems(ordered.stream().map(PendingWrite::item).toList()));
        } catch (TransactionCanceledException cancelled) {
            throw translate(cancelled, ordered);
        }
    }

    /**
     * More items than one DynamoDB transaction holds (a large batch of events): the effects go first, in parts of
     * {@link #MAX_ITEMS}, and the progress writes ({@link #writeLast}) last, in one part. A crash between parts
     * leaves some effects written and the token where it was, so the batch's events are handled again: processors'
     * handlers are idempotent for that (views check sequence numbers, dispatches carry their ids).
     */
    private void commitInParts() {
        List<PendingWrite> effects = writes.values().stream().filter(write -> !write.last()).toList();
        List<PendingWrite> progress = writes.values().stream().filter(PendingWrite::last).toList();
        if (progress.size() > MAX_ITEMS) {
            throw new TransactionTooLargeException("a unit of work recorded progress in " + progress.size()
                    + " items; one DynamoDB transaction holds at most " + MAX_ITEMS + ". Nothing was written.");
        }
        log.info("A unit of work writes {} items, more than one DynamoDB transaction holds; committing it in parts",
                writes.size());
        for (int from = 0; from < effects.size(); from += MAX_ITEMS) {
            transact(effects.subList(from, Math.min(effects.size(), from + MAX_ITEMS)));
        }
        if (!progress.isEmpty()) {
            transact(progress);
        }
    }

    private static RuntimeException translate(TransactionCanceledException cancelled, List<PendingWrite> ordered) {
        List<CancellationReason> reasons = cancelled.cancellationReasons();
        for (int i = 0; i < reasons.size() && i < ordered.size(); i++) {
            if ("ConditionalCheckFailed".equals(reasons.get(i).code())) {
                RuntimeException translated = ordered.get(i).onConditionFailed().apply(
                        "condition failed on " + ordered.get(i).key());
                translated.addSuppressed(cancelled);
                return translated;
            }
        }
        return new DynamoTransactionException("DynamoDB cancelled the transaction: " + cancelled.getMessage(), cancelled);
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

    /** A collected write and how to explain its failed condition. */
    public record PendingWrite(ItemKey key, TransactWriteItem item, Function<String, RuntimeException> onConditionFailed,
                               boolean last) {
    }
}
