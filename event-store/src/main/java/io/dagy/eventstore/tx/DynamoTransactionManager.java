package io.dagy.eventstore.tx;

import org.axonframework.common.transaction.Transaction;
import org.axonframework.common.transaction.TransactionManager;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.util.Optional;

/**
 * Axon's {@link TransactionManager} for DynamoDB: a transaction collects the writes that stores make while it is open
 * on this thread (a processor's token, saga state, deadlines) and commits them in one {@code TransactWriteItems} at
 * the end, so a unit of work's effects and its token are written together or not at all.
 *
 * <p>A transaction started while another is open on the same thread joins it: only the outermost commits. Stores ask
 * {@link #current()} whether to join or to write at once.
 */
public final class DynamoTransactionManager implements TransactionManager {

    private static final ThreadLocal<DynamoTransaction> CURRENT = new ThreadLocal<>();

    private final DynamoDbClient dynamoDb;
    private final TransactionCombiner combiner;

    public DynamoTransactionManager(DynamoDbClient dynamoDb) {
        this(dynamoDb, false);
    }

    /**
     * @param combine whether commits ready at the same moment on this node are sent as one transaction (decision 98)
     */
    public DynamoTransactionManager(DynamoDbClient dynamoDb, boolean combine) {
        this(dynamoDb, combine ? new TransactionCombiner(dynamoDb) : null);
    }

    DynamoTransactionManager(DynamoDbClient dynamoDb, TransactionCombiner combiner) {
        this.dynamoDb = dynamoDb;
        this.combiner = combiner;
    }

    @Override
    public Transaction startTransaction() {
        DynamoTransaction outer = CURRENT.get();
        if (outer != null) {
            return outer.joined();
        }
        DynamoTransaction transaction = new DynamoTransaction(dynamoDb, CURRENT::remove, combiner);
        CURRENT.set(transaction);
        return transaction;
    }

    /**
     * Runs {@code work} with no transaction open on this thread (a transaction it starts is its own, committed on its
     * own), then puts back the one that was open. For work that must not wait for, or fail with, the caller's
     * transaction: a dead letter retried from the admin API commits letter by letter.
     */
    public static <T> T outside(java.util.function.Supplier<T> work) {
        DynamoTransaction open = CURRENT.get();
        CURRENT.remove();
        try {
            return work.get();
        } finally {
            if (open != null) {
                CURRENT.set(open);
            } else {
                CURRENT.remove();
            }
        }
    }

    /** The transaction open on this thread, if any. */
    public static Optional<DynamoTransaction> current() {
        return Optional.ofNullable(CURRENT.get());
    }
}
