package io.dagy.benchmarks;

import io.dagy.benchmarks.BenchmarkEnvironment.Store;
import org.axonframework.eventhandling.TrackedEventMessage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Figure 3: fills fresh tables with {@code replayEvents} events in 10-event appends on several threads, then reads
 * them all from the tail token through {@code engine.readEvents(null, false)}, deserializing every payload as an
 * event processor would.
 */
final class ReplayBenchmark {

    static final int SPLIT_EVENTS = 10_000;
    /** Events per aggregate while filling: many aggregates, so the events spread over all shards. */
    private static final int EVENTS_PER_AGGREGATE = 100;

    /**
     * @param fill   time to append the events
     * @param replay time to read them all
     * @param splits time for each successive {@value #SPLIT_EVENTS} events of the replay
     */
    record Result(int events, int fillThreads, Duration fill, Duration replay, List<Duration> splits) {

        double fillPerSecond() {
            return events / seconds(fill);
        }

        double replayPerSecond() {
            return events / seconds(replay);
        }

        /** The rate after the first split, which includes the JIT's warm-up; NaN with a single split. */
        double warmReplayPerSecond() {
            Duration warm = splits.stream().skip(1).reduce(Duration.ZERO, Duration::plus);
            return splits.size() < 2 ? Double.NaN : (splits.size() - 1) * SPLIT_EVENTS / seconds(warm);
        }
    }

    private final BenchmarkEnvironment environment;
    private final BenchmarkConfig config;

    ReplayBenchmark(BenchmarkEnvironment environment, BenchmarkConfig config) {
        this.environment = environment;
        this.config = config;
    }

    Result run() {
        try (Store store = environment.freshStore()) {
            Progress.step("replay: appending %,d events", config.replayEvents());
            Duration fill = fill(store);
            Progress.step("replay: reading them");
            long start = System.nanoTime();
            List<Duration> splits = new ArrayList<>();
            long splitStart = start;
            int read = 0;
            try (Stream<? extends TrackedEventMessage<?>> events = store.engine().readEvents(null, false)) {
                Iterator<? extends TrackedEventMessage<?>> iterator = events.iterator();
                while (iterator.hasNext()) {
                    if (!(iterator.next().getPayload() instanceof StepRecorded)) {
                        throw new IllegalStateException("unexpected payload in the replay");
                    }
                    if (++read % SPLIT_EVENTS == 0) {
                        long now = System.nanoTime();
                        splits.add(Duration.ofNanos(now - splitStart));
                        splitStart = now;
                    }
                }
            }
            Duration replay = Duration.ofNanos(System.nanoTime() - start);
            if (read != config.replayEvents()) {
                throw new IllegalStateException("appended " + config.replayEvents() + " events but replayed " + read);
            }
            return new Result(read, config.fillThreads(), fill, replay, splits);
        }
    }

    /** Appends the events in 10-event appends, spread evenly over the fill threads. */
    private Duration fill(Store store) {
        int appends = config.replayEvents() / BenchmarkConfig.FILL_APPEND_SIZE;
        int threads = config.fillThreads();
        String detail = StepRecorded.detailOf(config.payloadChars());
        return Workers.counted(threads, thread -> new EngineAppender(store.engine(), "replay-t" + thread,
                BenchmarkConfig.FILL_APPEND_SIZE, EVENTS_PER_AGGREGATE, detail), appends / threads);
    }

    static double seconds(Duration duration) {
        return duration.toNanos() / 1e9;
    }
}
