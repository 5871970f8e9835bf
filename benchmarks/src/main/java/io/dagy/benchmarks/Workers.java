package io.dagy.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;

/**
 * Runs an operation in a loop on several threads, each thread with its own instance (its own aggregates), all
 * started together. The first failure of any thread stops the others and fails the scenario: a benchmark that lost
 * writes has no figure to report.
 */
final class Workers {

    /** One write (or read) of a benchmark; instances are used by one thread only. */
    @FunctionalInterface
    interface Operation {
        void run() throws Exception;
    }

    private Workers() {
    }

    /**
     * Runs for {@code warmUp + measure} and counts the operations that complete within the last {@code measure}.
     */
    static Throughput timed(int threads, IntFunction<Operation> operations, Duration warmUp, Duration measure) {
        long[] window = new long[2]; // set once all threads are ready: [start, end) of the timed window
        List<long[]> latencies = run(threads, operations, (operation, stopped) -> {
            long[] recorded = new long[1024];
            int count = 0;
            while (!stopped.getAsBoolean()) {
                long begin = System.nanoTime();
                if (begin >= window[1]) {
                    break;
                }
                operation.run();
                long end = System.nanoTime();
                if (end >= window[0] && end < window[1]) {
                    if (count == recorded.length) {
                        recorded = Arrays.copyOf(recorded, count * 2);
                    }
                    recorded[count++] = end - begin;
                }
            }
            return Arrays.copyOf(recorded, count);
        }, () -> {
            window[0] = System.nanoTime() + warmUp.toNanos();
            window[1] = window[0] + measure.toNanos();
        });
        return Throughput.of(latencies, measure);
    }

    /** Runs {@code perThread} operations on each thread and returns the time until the last one completed. */
    static Duration counted(int threads, IntFunction<Operation> operations, int perThread) {
        long start = System.nanoTime();
        run(threads, operations, (operation, stopped) -> {
            for (int i = 0; i < perThread && !stopped.getAsBoolean(); i++) {
                operation.run();
            }
            return new long[0];
        }, () -> {
        });
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** What one thread does with its operation; it returns the latencies it recorded. */
    private interface Loop {
        long[] run(Operation operation, BooleanSupplier stopped) throws Exception;
    }

    private static List<long[]> run(int threads, IntFunction<Operation> operations, Loop loop, Runnable onAllReady) {
        List<Operation> perThread = new ArrayList<>();
        for (int thread = 0; thread < threads; thread++) {
            perThread.add(operations.apply(thread));
        }
        onAllReady.run();
        CountDownLatch start = new CountDownLatch(1);
        AtomicBoolean failed = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<long[]>> results = new ArrayList<>();
            for (Operation operation : perThread) {
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        return loop.run(operation, failed::get);
                    } catch (Exception | Error e) {
                        failed.set(true);
                        throw e;
                    }
                }));
            }
            start.countDown();
            List<long[]> outcomes = new ArrayList<>();
            for (Future<long[]> result : results) {
                outcomes.add(result.get());
            }
            return outcomes;
        } catch (ExecutionException e) {
            throw new IllegalStateException("a benchmark thread failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.shutdownNow();
        }
    }
}
