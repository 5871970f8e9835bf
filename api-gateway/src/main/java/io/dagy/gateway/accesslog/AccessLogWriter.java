package io.dagy.gateway.accesslog;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes access-log records off the request path: requests put them in a bounded queue (never waiting), and one
 * background thread writes them with {@code BatchWriteItem}, up to 25 at a time. A batch is written when it holds 25
 * records or its first record has waited {@code linger}: a busy worker's polls and reports then cost one write (and
 * one metering of API calls) per 25 requests or per linger, not one per request. When the queue is full a record is
 * dropped and counted, with a warning at most once a minute. Stopping writes what is queued, at once.
 *
 * <p>It stops after the web server (a lower phase stops later), so requests finished during graceful shutdown are
 * still written, and before the DynamoDB client is closed.
 */
final class AccessLogWriter implements SmartLifecycle {

    static final int BATCH_SIZE = 25;

    private static final Logger log = LoggerFactory.getLogger(AccessLogWriter.class);
    private static final long WARNING_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final int UNPROCESSED_RETRIES = 5;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final DynamoDbClient dynamoDb;
    private final java.util.function.Consumer<Map<String, List<java.time.Instant>>> written;
    private final String table;
    private final Duration timeToLive;
    private final long lingerNanos;
    private final BlockingQueue<AccessLogEntry> queue;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong lastDropWarning = new AtomicLong(System.nanoTime() - WARNING_INTERVAL_NANOS);
    private final AtomicLong lastFailureWarning = new AtomicLong(System.nanoTime() - WARNING_INTERVAL_NANOS);
    private volatile boolean stopping;
    private volatile Thread thread;

    AccessLogWriter(DynamoDbClient dynamoDb, String table, int capacity, Duration timeToLive, Duration linger) {
        this(dynamoDb, table, capacity, timeToLive, linger, calls -> { });
    }

    /**
     * With {@code written}: told, after each batch is written, the calls of each organization it held (their arrival
     * times), to meter API calls (docs/usage.md).
     */
    AccessLogWriter(DynamoDbClient dynamoDb, String table, int capacity, Duration timeToLive, Duration linger,
                    java.util.function.Consumer<Map<String, List<java.time.Instant>>> written) {
        this.written = written;
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.timeToLive = timeToLive;
        this.lingerNanos = linger.toNanos();
        this.queue = new ArrayBlockingQueue<>(capacity);
    }

    /** Queues a record without waiting; a full queue drops it. */
    void offer(AccessLogEntry entry) {
        if (queue.offer(entry)) {
            return;
        }
        long count = dropped.incrementAndGet();
        if (due(lastDropWarning)) {
            log.warn("Access log queue full: {} records dropped so far (DynamoDB too slow or unreachable?)", count);
        }
    }

    /** Records dropped because the queue was full, since start. */
    long dropped() {
        return dropped.get();
    }

    /** Records that DynamoDB did not take after retries, since start. */
    long failed() {
        return failed.get();
    }

    @Override
    public synchronized void start() {
        if (thread != null) {
            return;
        }
        stopping = false;
        Thread writer = new Thread(this::run, "dagy-access-log");
        writer.setDaemon(true);
        thread = writer;
        writer.start();
    }

    @Override
    public synchronized void stop() {
        Thread writer = thread;
        if (writer == null) {
            return;
        }
        stopping = true;
        try {
            writer.join(STOP_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            log.warn("Access log writer did not finish within {}; {} records not written", STOP_TIMEOUT, queue.size());
        }
        thread = null;
    }

    @Override
    public boolean isRunning() {
        return thread != null;
    }

    /** Below the web server's phases ({@code DEFAULT_PHASE - 1024} and {@code - 2048}): starts before, stops after. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 4096;
    }

    private void run() {
        List<AccessLogEntry> batch = new ArrayList<>(BATCH_SIZE);
        while (true) {
            AccessLogEntry first;
            try {
                first = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                stopping = true;
                first = queue.poll();
            }
            if (first == null) {
                if (stopping) {
                    return;   // stopping and nothing left: everything queued before stop() is written
                }
                continue;
            }
            batch.add(first);
            fill(batch, System.nanoTime() + lingerNanos);
            write(batch);
            batch.clear();
        }
    }

    /** Adds queued records until the batch is full, {@code until} has passed, or the writer is stopping. */
    private void fill(List<AccessLogEntry> batch, long until) {
        queue.drainTo(batch, BATCH_SIZE - batch.size());
        while (batch.size() < BATCH_SIZE && !stopping) {
            long left = until - System.nanoTime();
            if (left <= 0) {
                return;
            }
            AccessLogEntry next;
            try {
                next = queue.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                stopping = true;
                return;
            }
            if (next != null) {
                batch.add(next);
                queue.drainTo(batch, BATCH_SIZE - batch.size());
            }
        }
        queue.drainTo(batch, BATCH_SIZE - batch.size());
    }

    private void write(List<AccessLogEntry> batch) {
        List<WriteRequest> requests = batch.stream()
                .map(entry -> WriteRequest.builder()
                        .putRequest(PutRequest.builder().item(AccessLogItems.item(entry, timeToLive)).build())
                        .build())
                .toList();
        try {
            Map<String, List<WriteRequest>> pending = Map.of(table, requests);
            for (int attempt = 0; !pending.isEmpty(); attempt++) {
                if (attempt > 0) {
                    if (attempt > UNPROCESSED_RETRIES) {
                        lost(pending.get(table).size(), null);
                        return;
                    }
                    backOff(attempt);
                }
                Map<String, List<WriteRequest>> request = pending;
                BatchWriteItemResponse response = dynamoDb.batchWriteItem(b -> b.requestItems(request));
                pending = response.hasUnprocessedItems() ? response.unprocessedItems() : Map.of();
            }
        } catch (RuntimeException e) {
            lost(requests.size(), e);
            return;
        }
        Map<String, List<java.time.Instant>> calls = new java.util.HashMap<>();
        batch.stream().filter(entry -> entry.organization() != null)
                .forEach(entry -> calls.computeIfAbsent(entry.organization(), org -> new ArrayList<>()).add(entry.timestamp()));
        if (!calls.isEmpty()) {
            try {
                written.accept(calls);
            } catch (RuntimeException e) {
                if (due(lastFailureWarning)) {
                    log.warn("Access log: API calls of {} organizations could not be metered", calls.size(), e);
                }
            }
        }
    }

    private void lost(int count, RuntimeException cause) {
        long total = failed.addAndGet(count);
        if (due(lastFailureWarning)) {
            log.warn("Access log: {} records could not be written ({} so far)", count, total, cause);
        }
    }

    /** Throttled writes are retried, not dropped: waiting here only delays the queue. */
    private void backOff(int attempt) {
        try {
            Thread.sleep(Math.min(1_000, 50L << attempt));
        } catch (InterruptedException e) {
            stopping = true;
            Thread.currentThread().interrupt();
        }
    }

    private static boolean due(AtomicLong lastWarning) {
        long now = System.nanoTime();
        long last = lastWarning.get();
        return now - last >= WARNING_INTERVAL_NANOS && lastWarning.compareAndSet(last, now);
    }

    /** Records that DynamoDB has not yet received (for tests and diagnosis). */
    int queued() {
        return queue.size();
    }
}
