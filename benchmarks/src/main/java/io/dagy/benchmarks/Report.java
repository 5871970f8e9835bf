package io.dagy.benchmarks;

import io.dagy.eventstore.events.EventStoreSettings;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** Prints the figures as one plain-text block. */
final class Report {

    private final PrintStream out;

    Report(PrintStream out) {
        this.out = out;
    }

    void header(BenchmarkConfig config, String dynamoDbLocalVersion, ItemTemplates items) {
        EventStoreSettings settings = config.settings();
        Runtime runtime = Runtime.getRuntime();
        line("=== Dagy event store benchmark (DynamoDB Local %s, in process, in memory) ===",
                dynamoDbLocalVersion);
        line("machine   %d cores (%s), %s", runtime.availableProcessors(), Machine.cpuModel(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"));
        line("jvm       %s %s, max heap %d MB", System.getProperty("java.vm.name"),
                System.getProperty("java.runtime.version"), runtime.maxMemory() / (1024 * 1024));
        line("engine    shards=%d, readBatchSize=%d (%d per shard per batch), bucketSize=%d, gapTimeout=%s,"
                        + " compressionThreshold=%d B, appendAttempts=%d",
                settings.shards(), settings.readBatchSize(), Math.max(1, settings.readBatchSize() / settings.shards()),
                settings.bucketSize(), settings.gapTimeout(), settings.compressionThreshold(),
                settings.appendAttempts());
        line("events    StepRecorded, Jackson 3 JSON; per event the engine writes a stream item of ~%d B"
                        + " and an aggregate item of ~%d B",
                ItemTemplates.sizeOf(items.streamItem()), ItemTemplates.sizeOf(items.aggregateItem()));
        line("timing    throughput: one untimed pass over all rows (%d s each), then per row %d s warm-up and %d s"
                        + " timed; fresh tables for every measurement",
                config.warmUpPass().toSeconds(), config.warmUp().toSeconds(), config.measure().toSeconds());
    }

    void appends(List<AppendBenchmark.Row> rows) {
        line("");
        line("1+2. Appends (each writer thread appends to its own aggregate, sequence numbers increasing)");
        line("  ours     = engine.appendEvents(n domain events): counter UpdateItem ADD, then TransactWriteItems");
        line("             of 2n Puts (stream item + aggregate item per event, each attribute_not_exists(pk))");
        line("  raw      = TransactWriteItems of the same 2n Puts (copies of the engine's items, same bytes and");
        line("             conditions), nothing else: no counter, no serialization, no Axon");
        line("  raw+ctr  = the counter UpdateItem ADD plus that transaction: the engine's requests, without the engine");
        line("  %-6s %-7s | %10s %10s %8s %8s | %10s %10s | %8s %8s", "ev/app", "threads", "ours ev/s", "appends/s",
                "p50 ms", "p99 ms", "raw tx/s", "raw+ctr/s", "ours/raw", "ours/r+c");
        for (AppendBenchmark.Row row : rows) {
            line("  %-6d %-7d | %10.0f %10.0f %8.2f %8.2f | %10.0f %10.0f | %8.2f %8.2f",
                    row.eventsPerAppend(), row.threads(),
                    row.ours().perSecond() * row.eventsPerAppend(), row.ours().perSecond(),
                    row.ours().percentileMillis(50), row.ours().percentileMillis(99),
                    row.raw().perSecond(), row.rawWithCounter().perSecond(),
                    row.oursPerRaw(), row.oursPerRawWithCounter());
        }
    }

    void replay(ReplayBenchmark.Result result) {
        line("");
        line("3. Replay: engine.readEvents(null, false) from the tail token, every payload deserialized");
        line("  fill     %,d events in 10-event appends on %d threads: %s (%,.0f events/s)", result.events(),
                result.fillThreads(), seconds(result.fill()), result.fillPerSecond());
        line("  replay   %,d events in %s: %,.0f events/s, %.0f ms per 10k on average", result.events(),
                seconds(result.replay()), result.replayPerSecond(),
                ReplayBenchmark.seconds(result.replay()) * 1000 * ReplayBenchmark.SPLIT_EVENTS / result.events());
        line("  warm     %,.0f events/s after the first 10k (which includes the JIT's warm-up)",
                result.warmReplayPerSecond());
        line("  per 10k  %s ms", result.splits().stream().map(split -> Long.toString(split.toMillis()))
                .collect(Collectors.joining(" ")));
    }

    void aggregateLoad(AggregateLoadBenchmark.Result result) {
        line("");
        line("4. Aggregate load: EventSourcingRepository.load in a unit of work, %,d events (appended in %s),"
                + " %d timed loads after 1 untimed", result.events(), seconds(result.fill()),
                result.fromEvents().millis().length);
        variant("no snapshot", result.fromEvents());
        variant("snapshot@" + result.snapshotSequence(), result.fromSnapshot());
    }

    void footer(Duration total) {
        line("");
        line("total run time %s", seconds(total));
    }

    private void variant(String name, AggregateLoadBenchmark.Variant variant) {
        line("  %-15s median %8.1f ms (min %.1f, max %.1f); read %d events and %d snapshot(s) per load",
                name, variant.median(), variant.min(), variant.max(), variant.eventsRead(), variant.snapshotsRead());
    }

    private void line(String format, Object... arguments) {
        out.println(String.format(Locale.ROOT, format, arguments));
        out.flush();
    }

    private static String seconds(Duration duration) {
        return String.format(Locale.ROOT, "%.1f s", ReplayBenchmark.seconds(duration));
    }
}
