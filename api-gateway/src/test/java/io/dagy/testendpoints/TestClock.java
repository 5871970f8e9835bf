package io.dagy.testendpoints;

import io.github.bucket4j.TimeMeter;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A wall clock for rate-limit buckets that stands still until a test moves it, so that no token is refilled while a
 * test sends its burst (on a busy machine a burst of 200 takes seconds, and 120 a minute refills one every 500 ms).
 */
public final class TestClock implements TimeMeter {

    private final AtomicLong nanos = new AtomicLong(System.currentTimeMillis() * 1_000_000L);

    @Override
    public long currentTimeNanos() {
        return nanos.get();
    }

    @Override
    public boolean isWallClockBased() {
        return true;
    }

    public void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }
}
