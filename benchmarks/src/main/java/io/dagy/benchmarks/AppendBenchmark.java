package io.dagy.benchmarks;

import io.dagy.benchmarks.BenchmarkEnvironment.Store;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Figures 1 and 2: append throughput through the engine, and the rate of the bare DynamoDB writes it makes, for each
 * combination of events per append and writer threads. Every measurement gets fresh tables.
 */
final class AppendBenchmark {

    /**
     * One combination.
     *
     * @param ours           appends through the engine
     * @param raw            the same transaction without the engine and without the counter
     * @param rawWithCounter the counter update and the same transaction without the engine
     */
    record Row(int eventsPerAppend, int threads, Throughput ours, Throughput raw, Throughput rawWithCounter) {

        double oursPerRaw() {
            return ours.perSecond() / raw.perSecond();
        }

        double oursPerRawWithCounter() {
            return ours.perSecond() / rawWithCounter.perSecond();
        }
    }

    private final BenchmarkEnvironment environment;
    private final BenchmarkConfig config;
    private final String detail;

    AppendBenchmark(BenchmarkEnvironment environment, BenchmarkConfig config) {
        this.environment = environment;
        this.config = config;
        this.detail = StepRecorded.detailOf(config.payloadChars());
    }

    /**
     * Runs every row once untimed, then every row timed. Without the untimed pass the first rows ran while the JIT
     * was still compiling the SDK and DynamoDB Local (the same requests took 2 to 4 times longer over the first
     * thousand or so appends on 2 cores), so whichever row came first lost: a few seconds of warm-up per row are not
     * enough.
     */
    List<Row> run() {
        rows(new Pass("warm-up pass", Duration.ZERO, config.warmUpPass()));
        return rows(new Pass("timed", config.warmUp(), config.measure()));
    }

    /** How long each measurement of a pass runs untimed, then timed. */
    private record Pass(String name, Duration warmUp, Duration measure) {
    }

    private List<Row> rows(Pass pass) {
        List<Row> rows = new ArrayList<>();
        for (int eventsPerAppend : config.appendSizes()) {
            for (int threads : config.threads()) {
                rows.add(new Row(eventsPerAppend, threads, ours(pass, eventsPerAppend, threads),
                        raw(pass, eventsPerAppend, threads, false), raw(pass, eventsPerAppend, threads, true)));
            }
        }
        return rows;
    }

    /** The size of the items our append writes per event, for the report. */
    ItemTemplates sampleItems() {
        try (Store store = environment.freshStore()) {
            return ItemTemplates.capture(store.engine(), environment.dynamoDb(), store.eventsTable(), detail);
        }
    }

    private Throughput ours(Pass pass, int eventsPerAppend, int threads) {
        Progress.step("appends (%s): ours, %d event(s) per append, %d thread(s)", pass.name(), eventsPerAppend,
                threads);
        try (Store store = environment.freshStore()) {
            return timed(pass, threads, thread -> EngineAppender.oneAggregate(store.engine(), "agg-t" + thread,
                    eventsPerAppend, detail));
        }
    }

    private Throughput raw(Pass pass, int eventsPerAppend, int threads, boolean withCounter) {
        Progress.step("appends (%s): %s, %d event(s) per transaction, %d thread(s)", pass.name(),
                withCounter ? "raw+ctr" : "raw", eventsPerAppend, threads);
        try (Store store = environment.freshStore()) {
            ItemTemplates templates = ItemTemplates.capture(store.engine(), environment.dynamoDb(),
                    store.eventsTable(), detail);
            var target = new RawTransactionWriter.Target(environment.dynamoDb(), store.eventsTable(), templates,
                    environment.settings().bucketSize());
            int shards = environment.settings().shards();
            return timed(pass, threads, thread -> withCounter
                    ? RawTransactionWriter.withCounter(target, eventsPerAppend, thread, shards)
                    : RawTransactionWriter.transactionOnly(target, eventsPerAppend, thread));
        }
    }

    private static Throughput timed(Pass pass, int threads, IntFunction<Workers.Operation> operations) {
        return Workers.timed(threads, operations, pass.warmUp(), pass.measure());
    }
}
