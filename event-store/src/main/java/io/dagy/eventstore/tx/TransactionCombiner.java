package io.dagy.eventstore.tx;

import io.dagy.eventstore.tx.DynamoTransaction.ItemKey;
import io.dagy.eventstore.tx.DynamoTransaction.PendingWrite;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Sends the commits of this node's units of work that are ready while another is on the wire as one
 * {@code TransactWriteItems} (decision 98): the processors handling one commit (the run view, usage, the sagas of the
 * ending and the next task) each committed a small transaction of their own at about the same moment, four requests
 * where one would do.
 *
 * <p>A commit that finds the lane free is sent at once, alone, as before; those that arrive meanwhile wait for it, and
 * are then sent together, as many as one transaction holds (100 items, {@link DynamoTransaction#MAX_BYTES}) and
 * never two writes of one item. Together they land or not at all, like each alone. If DynamoDB cancels the combined
 * transaction (a condition of one of them failed, or a conflict), or refuses the request (invalid, too large,
 * throttled), nothing of it was written, and each is sent again alone with its own handling of refusals, so one
 * commit's refusal never becomes another's. A failure whose outcome is unknown (a server error, the network) is each
 * one's failure, as it would have been alone.
 */
public final class TransactionCombiner {

    private final DynamoDbClient dynamoDb;
    /**
     * The node's one lane: one transaction of the node on the wire at a time. With two lanes, a commit nearly always
     * found one free and went alone (3% of commits were combined in {@code concurrent-100x10}); with one, a third of
     * them are (decision 98).
     */
    private final Queue<Part> waiting = new ConcurrentLinkedQueue<>();
    /** Whether a thread is sending parts; guarded by {@link #waiting}. */
    private boolean sending;

    public TransactionCombiner(DynamoDbClient dynamoDb) {
        this.dynamoDb = dynamoDb;
    }

    /**
     * Commits {@code writes} (at most one transaction's worth), together with others if they wait, else alone with
     * {@code alone}: the committer's own sending, which handles its refusals. Returns once they are written; throws what
     * {@code alone} or DynamoDB threw.
     */
    void commit(List<PendingWrite> writes, Runnable alone) {
        Part part = new Part(writes, alone);
        waiting.add(part);
        awaitOrSend(part);
        if (part.outcome == Part.ALONE) {
            alone.run();
        } else if (part.outcome instanceof RuntimeException failed) {
            throw failed;
        } else if (part.outcome instanceof Error failed) {
            throw failed;
        }
    }

    /**
     * Returns once the part has an outcome: set by whoever sends it, or by this thread, which sends the oldest waiting
     * parts whenever the lane is free. A part already sent returns at once, without waiting for the lane. Interrupts
     * are kept for later: the part may be on the wire, and its owner must learn its outcome.
     */
    private void awaitOrSend(Part part) {
        boolean interrupted = false;
        while (true) {
            synchronized (waiting) {
                while (part.outcome == null && sending) {
                    try {
                        waiting.wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (part.outcome != null) {
                    break;
                }
                sending = true;
            }
            try {
                sendNext(part);
            } finally {
                synchronized (waiting) {
                    sending = false;
                    waiting.notifyAll();
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Commits waiting for the lane (for tests). */
    int waiting() {
        return waiting.size();
    }

    /** Sends the oldest waiting parts, among them the caller's {@code mine}; called by the one thread sending. */
    private void sendNext(Part mine) {
        List<Part> batch = new ArrayList<>();
        Set<ItemKey> keys = new HashSet<>();
        int items = 0;
        long bytes = 0;
        for (Part next = waiting.peek(); next != null; next = waiting.peek()) {
            boolean fits = items + next.writes.size() <= DynamoTransaction.MAX_ITEMS
                    && bytes + next.bytes <= DynamoTransaction.MAX_BYTES
                    && next.writes.stream().noneMatch(write -> keys.contains(write.key()));
            if (!fits && !batch.isEmpty()) {
                break;
            }
            waiting.poll();
            batch.add(next);
            next.writes.forEach(write -> keys.add(write.key()));
            items += next.writes.size();
            bytes += next.bytes;
        }
        if (batch.size() == 1) {
            Part only = batch.get(0);
            if (only != mine) {
                only.outcome = Part.ALONE; // its owner sends it: its retries and reads are not this lane's to wait for
                return;
            }
            try {
                only.alone.run();
                only.outcome = Part.DONE;
            } catch (RuntimeException | Error failed) {
                only.outcome = failed;
            }
            return;
        }
        List<TransactWriteItem> together = batch.stream()
                .flatMap(part -> part.writes.stream().map(PendingWrite::item)).toList();
        Object outcome;
        try {
            dynamoDb.transactWriteItems(b -> b.transactItems(together));
            outcome = Part.DONE;
        } catch (DynamoDbException refused) {
            // DynamoDB refused the request (a cancellation, an invalid or too large request, throttling): nothing was
            // written, and it may be one commit's doing, so each finds out alone what refuses it. A server error
            // (5xx) leaves the outcome unknown, as it would have alone.
            outcome = refused.statusCode() >= 400 && refused.statusCode() < 500 ? Part.ALONE : refused;
        } catch (RuntimeException | Error failed) {
            outcome = failed;
        }
        for (Part part : batch) {
            part.outcome = outcome;
        }
    }

    /** One unit of work's writes and, once sent, what became of them. */
    private static final class Part {
        static final Object DONE = new Object();
        /** Not written: the owner sends them alone. */
        static final Object ALONE = new Object();

        final List<PendingWrite> writes;
        final long bytes;
        final Runnable alone;
        /** {@link #DONE}, {@link #ALONE} or the failure; set before the sending thread frees the lane. */
        volatile Object outcome;

        Part(List<PendingWrite> writes, Runnable alone) {
            this.writes = writes;
            this.bytes = WriteSizes.of(writes);
            this.alone = alone;
        }
    }
}
