package io.dagy.benchmarks;

import io.dagy.eventstore.events.EventStoreSettings;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The size knobs of a run, read from system properties ({@code -Dbench.seconds=10} on the Maven command line).
 *
 * @param measure       how long each throughput scenario is timed ({@code bench.seconds}, default 10)
 * @param warmUp        how long each throughput scenario runs untimed first ({@code bench.warmupSeconds}, default 3)
 * @param warmUpPass    how long each throughput scenario runs in the untimed pass over all of them that comes before
 *                      any is timed, to let the JIT compile the client and DynamoDB Local
 *                      ({@code bench.warmupPassSeconds}, default 8)
 * @param threads       writer thread counts of the throughput scenarios ({@code bench.threads}, default 1,8)
 * @param appendSizes   events per append of the throughput scenarios ({@code bench.appendSizes}, default 1,10)
 * @param replayEvents  events appended, then replayed ({@code bench.replayEvents}, default 100000)
 * @param fillThreads   writer threads that append the replay events ({@code bench.fillThreads}, default 8)
 * @param loadEvents    events of the aggregate that is loaded ({@code bench.loadEvents}, default 10000)
 * @param loads         timed loads per variant; the median is reported ({@code bench.loads}, default 5)
 * @param payloadChars  length of the text field in every event payload ({@code bench.payloadChars}, default 200)
 * @param settings      the engine's settings: its defaults, with {@code bench.shards} and
 *                      {@code bench.readBatchSize} overriding theirs
 * @param scenarios     which figures to produce ({@code bench.scenarios}, default appends,replay,load)
 */
record BenchmarkConfig(Duration measure, Duration warmUp, Duration warmUpPass, List<Integer> threads, List<Integer> appendSizes,
                       int replayEvents, int fillThreads, int loadEvents, int loads, int payloadChars,
                       EventStoreSettings settings, Set<String> scenarios) {

    /** Events per append while filling the store for the replay and load scenarios. */
    static final int FILL_APPEND_SIZE = 10;

    BenchmarkConfig {
        if (replayEvents % FILL_APPEND_SIZE != 0 || loadEvents % FILL_APPEND_SIZE != 0 || loadEvents < 1) {
            throw new IllegalArgumentException("bench.replayEvents and bench.loadEvents must be positive multiples of "
                    + FILL_APPEND_SIZE);
        }
        if (loads < 1 || fillThreads < 1) {
            throw new IllegalArgumentException("bench.loads and bench.fillThreads must be positive");
        }
        if (replayEvents / FILL_APPEND_SIZE % fillThreads != 0) {
            throw new IllegalArgumentException("bench.replayEvents / " + FILL_APPEND_SIZE
                    + " must be a multiple of bench.fillThreads, so every fill thread appends as many events");
        }
    }

    static BenchmarkConfig fromSystemProperties() {
        EventStoreSettings defaults = EventStoreSettings.defaults();
        EventStoreSettings settings = new EventStoreSettings(
                intProperty("bench.shards", defaults.shards()),
                defaults.bucketSize(),
                defaults.gapTimeout(),
                intProperty("bench.readBatchSize", defaults.readBatchSize()),
                defaults.compressionThreshold(),
                defaults.appendAttempts());
        return new BenchmarkConfig(
                Duration.ofSeconds(intProperty("bench.seconds", 10)),
                Duration.ofSeconds(intProperty("bench.warmupSeconds", 3)),
                Duration.ofSeconds(intProperty("bench.warmupPassSeconds", 8)),
                intsProperty("bench.threads", "1,8"),
                intsProperty("bench.appendSizes", "1,10"),
                intProperty("bench.replayEvents", 100_000),
                intProperty("bench.fillThreads", 8),
                intProperty("bench.loadEvents", 10_000),
                intProperty("bench.loads", 5),
                intProperty("bench.payloadChars", 200),
                settings,
                Set.copyOf(Arrays.asList(System.getProperty("bench.scenarios", "appends,replay,load").split(","))));
    }

    boolean runs(String scenario) {
        return scenarios.contains(scenario);
    }

    private static int intProperty(String name, int fallback) {
        String value = System.getProperty(name);
        return value == null || value.isBlank() ? fallback : Integer.parseInt(value.trim().replace("_", ""));
    }

    private static List<Integer> intsProperty(String name, String fallback) {
        return Arrays.stream(System.getProperty(name, fallback).split(","))
                .map(String::trim)
                .map(Integer::parseInt)
                .toList();
    }
}
