package io.dagy.gateway.ratelimit;

import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Takes one token per request from the key's bucket: capacity {@code burst}, refilled greedily (continuously) at
 * {@code perMinute} per minute. When the bucket store cannot be reached the request is let through (fail open): an
 * outage of the limiter must not become an outage of the API. Each such request is counted, and a warning is logged at
 * most once a minute.
 */
final class RateLimiter {

    private static final Logger log = LoggerFactory.getLogger(RateLimiter.class);
    private static final long WARNING_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final ProxyManager<String> buckets;
    private final BucketConfiguration configuration;
    private final int perMinute;
    private final AtomicLong failedOpen = new AtomicLong();
    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARNING_INTERVAL_NANOS);

    RateLimiter(ProxyManager<String> buckets, int perMinute, int burst) {
        this.buckets = buckets;
        this.perMinute = perMinute;
        this.configuration = BucketConfiguration.builder()
                .addLimit(limit -> limit.capacity(burst).refillGreedy(perMinute, Duration.ofMinutes(1)))
                .build();
    }

    /** The sort key that names this limit's buckets, so that changed settings start fresh ones. */
    static String limitKey(int perMinute, int burst) {
        return perMinute + "/" + burst;
    }

    int perMinute() {
        return perMinute;
    }

    /** Requests let through because the bucket store failed, since start. */
    long failedOpen() {
        return failedOpen.get();
    }

    Verdict take(String key) {
        ConsumptionProbe probe;
        try {
            probe = buckets.builder().build(key, () -> configuration).tryConsumeAndReturnRemaining(1);
        } catch (RuntimeException storeFailed) {
            long count = failedOpen.incrementAndGet();
            long now = System.nanoTime();
            long last = lastWarning.get();
            if (now - last >= WARNING_INTERVAL_NANOS && lastWarning.compareAndSet(last, now)) {
                log.warn("Rate limits are not enforced: the bucket store failed ({} requests let through so far)",
                        count, storeFailed);
            }
            return new Verdict(true, OptionalLong.empty(), 0);
        }
        if (probe.isConsumed()) {
            return new Verdict(true, OptionalLong.of(probe.getRemainingTokens()), 0);
        }
        long retryAfterSeconds = Math.max(1, (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L);
        return new Verdict(false, OptionalLong.of(probe.getRemainingTokens()), retryAfterSeconds);
    }

    /**
     * @param allowed           whether the request may go on
     * @param remaining         tokens left in the bucket; empty when the store failed and the request went through
     *                          unchecked
     * @param retryAfterSeconds for a refused request, when the next token arrives (rounded up)
     */
    record Verdict(boolean allowed, OptionalLong remaining, long retryAfterSeconds) {
    }
}
