package io.dagy.benchmarks;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * The operations completed within a timed window, over all threads, and their latencies.
 *
 * @param operations how many completed within the window
 * @param seconds    the window
 * @param latencies  the latency of each, in nanoseconds, sorted
 */
record Throughput(long operations, double seconds, long[] latencies) {

    static Throughput of(List<long[]> latenciesPerThread, Duration window) {
        long[] all = latenciesPerThread.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        return new Throughput(all.length, window.toNanos() / 1e9, all);
    }

    double perSecond() {
        return operations / seconds;
    }

    /** The latency below which {@code percent} of the operations completed, in milliseconds. */
    double percentileMillis(double percent) {
        if (latencies.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(percent / 100 * latencies.length) - 1;
        return latencies[Math.max(0, index)] / 1e6;
    }
}
