package io.dagy.eventstore.tx;

import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.TransactionConflictException;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * DynamoDB's transaction conflicts, which are transient and which the AWS SDK does not retry: a
 * {@code TransactWriteItems} touching an item that another transaction is writing is cancelled with the reason
 * {@code TransactionConflict}, and a single-item write to such an item fails with {@link TransactionConflictException}.
 * In both cases nothing was written, so the very same request may be sent again. (DynamoDB Local serializes
 * transactions and never reports either; tests inject them.)
 */
public final class TransactionConflicts {

    /** Attempts in all, the first included, before a conflict is given up on. */
    public static final int ATTEMPTS = 5;

    private TransactionConflicts() {
    }

    /** Whether DynamoDB cancelled a transaction only because of conflicts (no condition failed, nothing else wrong). */
    public static boolean onlyConflicts(TransactionCanceledException cancelled) {
        if (!cancelled.hasCancellationReasons()) {
            return false;
        }
        boolean conflict = false;
        for (CancellationReason reason : cancelled.cancellationReasons()) {
            String code = reason.code();
            if ("TransactionConflict".equals(code)) {
                conflict = true;
            } else if (code != null && !"None".equals(code)) {
                return false;
            }
        }
        return conflict;
    }

    /** Whether a failed request is a conflict that may simply be sent again. */
    public static boolean isConflict(RuntimeException failure) {
        return failure instanceof TransactionConflictException
                || failure instanceof TransactionCanceledException cancelled && onlyConflicts(cancelled);
    }

    /**
     * Runs a request, sending it again after a short random pause when it fails with a conflict, up to
     * {@link #ATTEMPTS} times; then the last conflict is thrown. Any other failure is thrown at once.
     */
    public static <T> T retried(Supplier<T> request) {
        for (int attempt = 1; ; attempt++) {
            try {
                return request.get();
            } catch (TransactionConflictException | TransactionCanceledException failure) {
                if (!isConflict(failure) || attempt >= ATTEMPTS) {
                    throw failure;
                }
                backOff(attempt);
            }
        }
    }

    /** {@link #retried(Supplier)} for a request without a result. */
    public static void retried(Runnable request) {
        retried(() -> {
            request.run();
            return null;
        });
    }

    /** A short random pause that grows with the attempt: a few milliseconds, as conflicts last as long as a write. */
    static void backOff(int attempt) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ThreadLocalRandom.current().nextLong(1, 1 + 5L * attempt)));
    }
}
