package io.dagy.eventstore.tx;

import io.dagy.eventstore.caching.LruCache;
import io.dagy.eventstore.tokens.ClaimEpochs;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The items of a projection that only one processor writes, each item always from the same segment (its sequencing
 * policy sends every event that touches it there), remembered on this node while the node's claims on the processor
 * stand still ({@link ClaimEpochs}). A projection then reads an item from the table once, not on every event: a run's
 * progress, a task's view, an attempt's metering state.
 *
 * <p>Why it stays true across nodes: another node can only have written an item of a segment this node holds if this
 * node lost the claim in between; this node then handles the segment again only after claiming it anew, which moves the
 * epoch and so drops everything remembered. A node that has lost its claim without knowing yet may read a remembered
 * item that the new owner has changed, but its commit is fenced by the claim (decision 36) and writes nothing.
 *
 * <p>What is remembered is what the table holds after a commit: a read is remembered with the epoch seen before it; a
 * write only once its transaction has committed. If a transaction does not commit (rolled back, or its commit failed,
 * perhaps after some of its parts landed), every item it read or wrote is forgotten, so the retry reads the table.
 */
public final class OwnedItems {

    /** Remembers nothing: every read goes to the table. */
    public static final OwnedItems NONE = new OwnedItems(null, null, 0);

    private final String processor;
    private final ClaimEpochs epochs;
    private final LruCache remembered;
    /** Items presumed absent by a transaction that did not commit: read from the table next time. */
    private final Set<DynamoTransaction.ItemKey> doubted = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The key under which a transaction holds the items it presumed absent. */
    private final Object presumptions = new Object();

    /**
     * @param processor  the processing group whose segments alone write the items
     * @param epochs     the claims this node's token store has taken
     * @param maxEntries how many items to remember (least recently used go first; the collector may clear them)
     */
    public OwnedItems(String processor, ClaimEpochs epochs, int maxEntries) {
        this.processor = processor;
        this.epochs = epochs;
        this.remembered = processor == null ? null : LruCache.softValues(maxEntries);
    }

    /** The item as the table holds it: remembered, or read by {@code fromTable} and remembered. */
    public Optional<Map<String, AttributeValue>> read(DynamoTransaction.ItemKey key,
                                                      Supplier<Optional<Map<String, AttributeValue>>> fromTable) {
        if (remembered == null) {
            return fromTable.get();
        }
        long epoch = epochs.of(processor);
        Remembered entry = remembered.get(key);
        touched(key);
        if (entry != null && entry.epoch() == epoch) {
            return entry.item();
        }
        Optional<Map<String, AttributeValue>> item = fromTable.get();
        remembered.put(key, new Remembered(item, epoch));
        return item;
    }

    /**
     * An item that only the event being handled creates (an attempt's first metering state, the saga an attempt's
     * first dispatch starts): answered absent without a read, in the open transaction. The caller must then create the
     * item with a condition that it does not exist ({@code attribute_not_exists}) in that transaction: that condition,
     * not this answer, keeps a wrong presumption from writing (the event handled again after a commit of which some
     * parts landed, or after another node's commit). The transaction enforces it whatever happens to the item later in
     * the unit of work ({@link DynamoTransaction#requireAbsent}: a later put, or no write at all). If the transaction
     * does not commit, every item it presumed absent is doubted: the retry reads the table. Without an open
     * transaction, or for a doubted item, it is {@link #read}.
     */
    public Optional<Map<String, AttributeValue>> readNew(DynamoTransaction.ItemKey key,
                                                         Supplier<Optional<Map<String, AttributeValue>>> fromTable) {
        var transaction = DynamoTransactionManager.current();
        if (remembered == null || transaction.isEmpty() || doubted.remove(key)) {
            return read(key, fromTable);
        }
        Remembered entry = remembered.get(key);
        if (entry != null && entry.epoch() == epochs.of(processor)) {
            touched(key);
            return entry.item();
        }
        Set<DynamoTransaction.ItemKey> presumed = transaction.get().resource(presumptions, () -> {
            Set<DynamoTransaction.ItemKey> created = new HashSet<>();
            transaction.get().ifNotCommitted(() -> created.forEach(doubted::add));
            return created;
        });
        presumed.add(key);
        transaction.get().requireAbsent(key);
        return Optional.empty();
    }

    /** A put of the item, in {@code transaction} (remembered once it commits) or already written (null). */
    public void written(DynamoTransaction transaction, DynamoTransaction.ItemKey key, Map<String, AttributeValue> item) {
        remember(transaction, key, Optional.of(Map.copyOf(item)));
    }

    /** A delete of the item, in {@code transaction} (remembered as absent once it commits) or already done (null). */
    public void deleted(DynamoTransaction transaction, DynamoTransaction.ItemKey key) {
        remember(transaction, key, Optional.empty());
    }

    private void remember(DynamoTransaction transaction, DynamoTransaction.ItemKey key,
                          Optional<Map<String, AttributeValue>> item) {
        if (remembered == null) {
            return;
        }
        Remembered entry = new Remembered(item, epochs.of(processor));
        if (transaction == null) {
            remembered.put(key, entry);
            return;
        }
        touched(key);
        transaction.afterCommit(() -> remembered.put(key, entry));
    }

    /** Items written outside what this class sees (a batch written at once): read from the table next time. */
    public void forget(DynamoTransaction.ItemKey key) {
        if (remembered != null) {
            remembered.remove(key);
        }
    }

    /** Forgets everything (a reset of the projection). */
    public void clear() {
        if (remembered != null) {
            remembered.removeAll();
        }
    }

    /** Notes an item the open transaction relies on, to forget it if the transaction does not commit. */
    private void touched(DynamoTransaction.ItemKey key) {
        DynamoTransactionManager.current().ifPresent(transaction -> {
            Set<DynamoTransaction.ItemKey> keys = transaction.resource(this, () -> {
                Set<DynamoTransaction.ItemKey> created = new HashSet<>();
                transaction.ifNotCommitted(() -> created.forEach(this::forget));
                return created;
            });
            keys.add(key);
        });
    }

    private record Remembered(Optional<Map<String, AttributeValue>> item, long epoch) {
    }
}
