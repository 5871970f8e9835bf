package io.dagy.gateway.health;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.Problems;
import org.slf4j.Logger;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Whether DynamoDB, which every request needs, can be reached. A request that fails because the store does not
 * answer marks it down; from then on requests are answered at once with 503 and {@code Retry-After} instead of
 * each waiting for its own timeouts, {@code /health} says unhealthy, and a probe every {@code probeInterval} marks
 * it up again. The outage is logged once when it starts and once when it ends.
 */
public final class StoreOutage implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(StoreOutage.class);

    private final DynamoDbClient dynamoDb;
    private final String probeTable;
    private final Duration probeInterval;
    private final Clock clock;
    private final AtomicReference<Instant> downSince = new AtomicReference<>();
    private ScheduledExecutorService prober;

    public StoreOutage(DynamoDbClient dynamoDb, String probeTable, Duration probeInterval, Clock clock) {
        this.dynamoDb = dynamoDb;
        this.probeTable = probeTable;
        this.probeInterval = probeInterval;
        this.clock = clock;
    }

    /** Whether a failure means the store could not be reached (rather than a refusal or a bug). */
    public static boolean isUnreachable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SdkClientException) {
                return true;
            }
        }
        return false;
    }

    public boolean isDown() {
        return downSince.get() != null;
    }

    /** Seconds a client should wait before it tries again. */
    public long retryAfterSeconds() {
        return Math.max(1, probeInterval.toSeconds());
    }

    /** The answer to a request while the store is down: 503 {@code service_unavailable}. */
    public ProblemDetail unavailable() {
        return Problems.of(HttpStatus.SERVICE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE,
                "Dagy's database cannot be reached at the moment. Try again later.");
    }

    public void markDown(Throwable cause) {
        if (downSince.compareAndSet(null, clock.instant())) {
            log.warn("DynamoDB cannot be reached ({}); answering 503 until it can (logged once)", cause.toString());
        }
    }

    private void probe() {
        Instant since = downSince.get();
        if (since == null) {
            return;
        }
        try {
            dynamoDb.describeTable(b -> b.tableName(probeTable));
            if (downSince.compareAndSet(since, null)) {
                log.info("DynamoDB answers again after {} s", Duration.between(since, clock.instant()).toSeconds());
            }
        } catch (RuntimeException stillDown) {
            log.debug("DynamoDB still cannot be reached: {}", stillDown.toString());
        }
    }

    @Override
    public void start() {
        prober = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "store-outage-probe");
            thread.setDaemon(true);
            return thread;
        });
        prober.scheduleWithFixedDelay(this::probe, probeInterval.toMillis(), probeInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() {
        if (prober != null) {
            prober.shutdownNow();
            prober = null;
        }
    }

    @Override
    public boolean isRunning() {
        return prober != null;
    }
}
