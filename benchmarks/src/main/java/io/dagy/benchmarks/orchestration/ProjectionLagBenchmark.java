package io.dagy.benchmarks.orchestration;

import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.EventProcessor;
import org.axonframework.messaging.InterceptorChain;
import org.axonframework.messaging.MessageHandlerInterceptor;
import org.axonframework.messaging.unitofwork.UnitOfWork;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The lag of the audit log and the usage aggregates behind the event store: for every event the {@code audit-log}
 * and {@code usage} processors handle, the time from the event's timestamp (taken when its command handler applied
 * it, just before its commit) to the commit of the processor's transaction that wrote its record or aggregate (an
 * after-commit hook on the processor's unit of work). Workload: concurrent-100x10 (100 runs of a 10-task chain started
 * at once, noop backend). Dagy runs in this JVM as a user starts it (local profile, embedded stack). Run it from the
 * repository root with
 *
 * <pre>
 * ./mvnw -q -pl benchmarks -am -DskipTests package exec:java@projection-lag
 * </pre>
 *
 * Knobs: {@code bench.runs} (100), {@code bench.tasks} (10), {@code bench.rounds} (3, each a fresh deployment; the
 * figures cover all rounds), {@code bench.storage} ({@code disk} or {@code memory}; disk). It prints p50, p99 and max
 * per processor, and for the events that make a record (audit: {@code RunStarted}; usage: every handled event).
 */
public final class ProjectionLagBenchmark {

    private static final List<String> PROCESSORS = List.of("audit-log", "usage");

    /** Lags in milliseconds per processor and per event type, while {@code recording}. */
    private static final Map<String, ConcurrentLinkedQueue<Double>> LAGS = new ConcurrentHashMap<>();
    private static final AtomicBoolean RECORDING = new AtomicBoolean();

    private ProjectionLagBenchmark() {
    }

    public static void main(String[] args) {
        int status = 0;
        try {
            run();
        } catch (Exception | Error e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status); // the embedded stack's threads would keep exec:java's JVM alive
    }

    private static void run() throws Exception {
        int runs = Integer.getInteger("bench.runs", 100);
        int tasks = Integer.getInteger("bench.tasks", 10);
        int rounds = Integer.getInteger("bench.rounds", 3);
        DagyProcess.Storage storage = DagyProcess.Storage.valueOf(
                System.getProperty("bench.storage", "disk").toUpperCase(Locale.ROOT));
        try (DagyProcess dagy = DagyProcess.start(storage, Map.of())) {
            EventProcessingConfiguration processing = dagy.bean(org.axonframework.config.Configuration.class)
                    .eventProcessingConfiguration();
            for (String name : PROCESSORS) {
                EventProcessor processor = processing.eventProcessor(name)
                        .orElseThrow(() -> new IllegalStateException("no processor " + name));
                processor.registerHandlerInterceptor(new LagRecorder(name));
            }
            DagyClient client = new DagyClient(dagy.base(), dagy.apiKey());
            Map<String, Object> noop = Map.of("type", "noop");
            progress("warm-up: 10 runs of chain-%d (not reported)", tasks);
            round(client, "lag-warmup", Workloads.chain(tasks, noop), 10);
            settle();
            RECORDING.set(true);
            for (int round = 1; round <= rounds; round++) {
                progress("round %d of %d: %d runs of chain-%d started at once", round, rounds, runs, tasks);
                round(client, "lag-" + round, Workloads.chain(tasks, noop), runs);
                settle();
            }
            RECORDING.set(false);
            System.out.printf(Locale.ROOT, "%nprojection lag, concurrent-%dx%d, %d rounds, data %s (ms from the event's "
                    + "timestamp to the commit of its processor's transaction)%n", runs, tasks, rounds, storage.label());
            System.out.printf(Locale.ROOT, "%-34s %8s %9s %9s %9s%n", "processor / events", "events", "p50", "p99", "max");
            LAGS.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(entry -> {
                double[] sorted = entry.getValue().stream().mapToDouble(Double::doubleValue).sorted().toArray();
                System.out.printf(Locale.ROOT, "%-34s %8d %9.1f %9.1f %9.1f%n", entry.getKey(), sorted.length,
                        percentile(sorted, 50), percentile(sorted, 99), sorted[sorted.length - 1]);
            });
        }
    }

    private static void round(DagyClient client, String deployment, Map<String, Object> spec, int runs)
            throws Exception {
        client.putDeployment(deployment, spec);
        ExecutorService starters = Executors.newFixedThreadPool(Math.min(runs, 16));
        try {
            List<Future<String>> started = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                started.add(starters.submit(() -> client.startRun(deployment)));
            }
            for (Future<String> future : started) {
                future.get();
            }
        } finally {
            starters.shutdown();
        }
        client.awaitRuns(deployment, runs, Duration.ofMinutes(30));
    }

    /** Waits until the processors handled nothing for 3 s: every event of the round has its record. */
    private static void settle() throws InterruptedException {
        long last = -1;
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < 3_000_000_000L) {
            long handled = LagRecorder.HANDLED.get();
            if (handled != last) {
                last = handled;
                quietSince = System.nanoTime();
            }
            Thread.sleep(100);
        }
    }

    private static double percentile(double[] sorted, double p) {
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(p / 100.0 * sorted.length))];
    }

    private static void progress(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[%s] " + format + "%n", prepend(Instant.now(), args));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    /** Records, after the processor's transaction committed, how long ago each handled event was stamped. */
    private record LagRecorder(String processor) implements MessageHandlerInterceptor<EventMessage<?>> {

        static final java.util.concurrent.atomic.AtomicLong HANDLED = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public Object handle(UnitOfWork<? extends EventMessage<?>> unitOfWork, InterceptorChain chain) throws Exception {
            EventMessage<?> event = unitOfWork.getMessage();
            Instant stamped = event.getTimestamp();
            String type = event.getPayloadType().getSimpleName();
            unitOfWork.afterCommit(committed -> {
                HANDLED.incrementAndGet();
                if (!RECORDING.get()) {
                    return;
                }
                double lag = Duration.between(stamped, Instant.now()).toNanos() / 1e6;
                LAGS.computeIfAbsent(processor + " (all)", k -> new ConcurrentLinkedQueue<>()).add(lag);
                if (processor.equals("audit-log") && type.equals("RunStarted")) {
                    LAGS.computeIfAbsent(processor + " RunStarted (run_started)", k -> new ConcurrentLinkedQueue<>())
                            .add(lag);
                }
                if (processor.equals("usage") && type.equals("TaskRunFinished")) {
                    LAGS.computeIfAbsent(processor + " TaskRunFinished", k -> new ConcurrentLinkedQueue<>()).add(lag);
                }
            });
            return chain.proceed();
        }
    }
}
