package io.dagy.benchmarks.orchestration;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Benchmarks the orchestration end to end: Dagy runs in this JVM as a user starts it (local profile, embedded stack,
 * default settings); the benchmark registers DAGs and starts runs over REST, waits for them through the runs listing,
 * and reads the times of every attempt from {@code GET /v1/runs/{id}}. Run it from the repository root with
 *
 * <pre>
 * ./mvnw -q -pl benchmarks -am -DskipTests package exec:java@orchestration
 * </pre>
 *
 * Knobs (system properties): {@code bench.workloads} (comma-separated names, default all), {@code bench.backends}
 * ({@code noop,worker}), {@code bench.workerThreads} (8), {@code bench.ratioRuns} (20 runs of the 10-task DAG),
 * {@code bench.ratioTasks} (10000). {@code benchmarks/README.md} explains each figure.
 */
public final class OrchestrationBenchmark {

    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(30);

    private final DagyClient client;
    private final Report report = new Report();
    private int deployments;

    private OrchestrationBenchmark(DagyClient client) {
        this.client = client;
    }

    public static void main(String[] args) {
        int status = 0;
        try {
            run();
        } catch (Exception | Error e) {
            e.printStackTrace();
            status = 1;
        }
        // the embedded stack's background threads would keep exec:java's JVM alive
        System.exit(status);
    }

    private static void run() throws Exception {
        List<String> workloads = list("bench.workloads", "chain-200,wide-1000,layered-1000,concurrent-100x10,ratio");
        List<String> backends = list("bench.backends", "noop,worker");
        int workerThreads = Integer.getInteger("bench.workerThreads", 8);
        // as the peer's harness does (one warm-up, then the median of three): the JIT is still compiling through the
        // first runs of a workload, and one run on this machine varies by tens of percent
        int warmups = Integer.getInteger("bench.warmup", 0);
        int repeats = Math.max(1, Integer.getInteger("bench.repeat", 1));
        List<DagyProcess.Storage> storages = list("bench.storage", "disk,memory").stream()
                .map(name -> DagyProcess.Storage.valueOf(name.toUpperCase(Locale.ROOT))).toList();
        long started = System.nanoTime();
        boolean first = true;
        for (DagyProcess.Storage storage : storages) {
            progress("starting Dagy, data %s", storage.label());
            long starting = System.nanoTime();
            Memory.resetPeak();
            try (DagyProcess dagy = DagyProcess.start(storage, Map.of())) {
                progress("Dagy is up at %s after %.1f s", dagy.base(), (System.nanoTime() - starting) / 1e9);
                DagyClient client = new DagyClient(dagy.base(), dagy.apiKey());
                String workerKey = client.createKey("benchmark worker", "worker");
                OrchestrationBenchmark benchmark = new OrchestrationBenchmark(client);
                benchmark.report.header(storage.label(), workerThreads, first);
                for (String backend : backends) {
                    // the worker runs only for its own workloads: its idle polls would count against the others
                    try (WorkerProcess worker = backend.equals("worker")
                            ? WorkerProcess.start(dagy.base(), "bench", workerThreads, workerKey) : null) {
                        benchmark.warmUp(backend);
                        if (backend.equals(backends.get(0))) {
                            // the views, usage and audit finish the warm-up's events first: idle means nothing to do
                            progress("settling for 20 s before measuring the idle node");
                            Thread.sleep(20_000);
                            benchmark.report.idle(benchmark.idle(Duration.ofSeconds(20)), backend);
                        }
                        for (String workload : workloads) {
                            if (!workload.equals("ratio")) {
                                benchmark.measured(workload, backend, warmups, repeats);
                            }
                        }
                    }
                }
                if (workloads.contains("ratio") && first) {
                    benchmark.ratio(Integer.getInteger("bench.ratioRuns", 20), Integer.getInteger("bench.ratioTasks", 10_000));
                }
                benchmark.report.memory(Memory.now());
            }
            first = false;
        }
        System.out.printf(Locale.ROOT, "%ntotal run time %.1f s%n", (System.nanoTime() - started) / 1e9);
    }

    private void warmUp(String backend) throws Exception {
        progress("warm-up: chain-30 and wide-100 on %s (not reported)", backend);
        measure("warmup-chain", backend, Workloads.chain(30, backendSpec(backend)), 1);
        measure("warmup-wide", backend, Workloads.wide(100, backendSpec(backend)), 1);
    }

    /**
     * Runs a workload {@code warmups} times unreported, then {@code repeats} times, and reports the run of median
     * total time (with every run's time beside it when there are several).
     */
    private void measured(String name, String backend, int warmups, int repeats) throws Exception {
        for (int i = 0; i < warmups; i++) {
            progress("warm-up %d of %s (not reported)", i + 1, name);
            workload(name, backend);
        }
        List<Measurement> runs = new ArrayList<>();
        for (int i = 0; i < repeats; i++) {
            runs.add(workload(name, backend));
        }
        List<Measurement> byTime = runs.stream().sorted(java.util.Comparator.comparingDouble(Measurement::seconds)).toList();
        report.row(byTime.get(byTime.size() / 2));
        if (repeats > 1) {
            report.spread(runs.stream().map(Measurement::seconds).toList());
        }
    }

    private Measurement workload(String name, String backend) throws Exception {
        Map<String, Object> spec = backendSpec(backend);
        return switch (name) {
            case "chain-200" -> measure(name, backend, Workloads.chain(200, spec), 1);
            case "wide-1000" -> measure(name, backend, Workloads.wide(1000, spec), 1);
            case "layered-1000" -> measure(name, backend, Workloads.layered(20, 50, spec), 1);
            case "concurrent-100x10" -> measure(name, backend, Workloads.chain(10, spec), 100);
            default -> throw new IllegalArgumentException("unknown workload " + name);
        };
    }

    /**
     * Per-task cost of a big run against a small one, on the noop backend, in the same shape (one root, parallel
     * tasks, one join): CPU time of this JVM (Dagy and its embedded stack) and AWS requests, each net of what the idle
     * node spends in the same time (measured first).
     */
    private void ratio(int smallRuns, int bigTasks) throws Exception {
        Idle idle = idle(Duration.ofSeconds(20));
        Map<String, Object> noop = backendSpec("noop");
        List<Measurement> small = new ArrayList<>();
        for (int i = 0; i < smallRuns; i++) {
            small.add(measure("wide-10", "noop", Workloads.wide(10, noop), 1));
        }
        Measurement big = measure("wide-" + bigTasks, "noop", Workloads.wide(bigTasks, noop), 1);
        report.ratio(idle, small, big);
    }

    private Idle idle(Duration length) throws InterruptedException {
        progress("measuring the idle node for %d s", length.toSeconds());
        long cpu = cpuNanos();
        long requests = AwsRequestCounter.total(AwsRequestCounter.snapshot());
        Map<String, Long> before = AwsRequestCounter.snapshot();
        long start = System.nanoTime();
        Thread.sleep(length.toMillis());
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Long> after = AwsRequestCounter.snapshot();
        progress("  idle AWS requests: %s", after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0).sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(e -> e.getKey() + "=" + e.getValue()).collect(java.util.stream.Collectors.joining(" ")));
        return new Idle((cpuNanos() - cpu) / 1e9 / seconds,
                (AwsRequestCounter.total(AwsRequestCounter.snapshot()) - requests) / seconds);
    }

    private Measurement measure(String name, String backend, Map<String, Object> spec, int runs) throws Exception {
        String deployment = "bench-" + (++deployments) + "-" + name.replace('x', '-') + "-" + backend;
        client.putDeployment(deployment, spec);
        progress("%s on %s: %d run(s)", name, backend, runs);
        long cpu = cpuNanos();
        Map<String, Long> requests = AwsRequestCounter.snapshot();
        long wallStart = System.nanoTime();
        List<String> runIds = start(deployment, runs);
        client.awaitRuns(deployment, runs, RUN_TIMEOUT);
        double wall = (System.nanoTime() - wallStart) / 1e9;
        long cpuUsed = cpuNanos() - cpu;
        Map<String, Long> after = AwsRequestCounter.snapshot();
        long requestsUsed = AwsRequestCounter.total(after) - AwsRequestCounter.total(requests);
        progress("  AWS requests: %s", after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - requests.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0).sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(e -> e.getKey() + "=" + e.getValue()).collect(java.util.stream.Collectors.joining(" ")));
        List<DagyClient.Run> details = new ArrayList<>();
        for (String runId : runIds) {
            details.add(check(client.run(runId)));
        }
        return Measurement.of(name, backend, details, wall, cpuUsed / 1e9, requestsUsed);
    }

    private List<String> start(String deployment, int runs) throws Exception {
        if (runs == 1) {
            return List.of(client.startRun(deployment));
        }
        ExecutorService starters = Executors.newFixedThreadPool(Math.min(runs, 16));
        try {
            List<Future<String>> started = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                started.add(starters.submit(() -> client.startRun(deployment)));
            }
            List<String> ids = new ArrayList<>();
            for (Future<String> future : started) {
                ids.add(future.get());
            }
            return ids;
        } finally {
            starters.shutdown();
        }
    }

    /** A figure is only printed for runs that did their work: every task succeeded, once. */
    private static DagyClient.Run check(DagyClient.Run run) {
        if (!run.status().equals("SUCCEEDED")) {
            throw new IllegalStateException("run " + run.id() + " ended " + run.status());
        }
        run.tasks().forEach((task, attempt) -> {
            if (!attempt.status().equals("SUCCEEDED") || attempt.endedAt() == null) {
                throw new IllegalStateException("run " + run.id() + ": task " + task + " is " + attempt.status());
            }
        });
        return run;
    }

    private static Map<String, Object> backendSpec(String backend) {
        return switch (backend) {
            case "noop" -> Map.of("type", "noop");
            case "worker" -> Map.of("type", "worker", "queue", "bench");
            default -> throw new IllegalArgumentException("unknown backend " + backend);
        };
    }

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static List<String> list(String property, String defaults) {
        return Arrays.stream(System.getProperty(property, defaults).split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList();
    }

    static void progress(String format, Object... arguments) {
        double seconds = ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0;
        System.err.printf(Locale.ROOT, "[%7.1f s] %s%n", seconds, String.format(Locale.ROOT, format, arguments));
    }

    /** What the idle node spends per second. */
    record Idle(double cpuCores, double requestsPerSecond) {
    }

    /** One workload's figures. Times are the server's: from the first run's start to the last run's end. */
    record Measurement(String name, String backend, int runs, int tasks, double seconds, double wallSeconds,
                       double cpuSeconds, long requests, Hops hops) {

        static Measurement of(String name, String backend, List<DagyClient.Run> runs, double wall, double cpu,
                              long requests) {
            Instant first = runs.stream().map(DagyClient.Run::startedAt).min(Comparator.naturalOrder()).orElseThrow();
            Instant last = runs.stream().map(DagyClient.Run::endedAt).max(Comparator.naturalOrder()).orElseThrow();
            int tasks = runs.stream().mapToInt(run -> run.tasks().size()).sum();
            boolean chain = name.startsWith("chain") || name.startsWith("concurrent") || name.equals("warmup-chain");
            return new Measurement(name, backend, runs.size(), tasks, Duration.between(first, last).toNanos() / 1e9,
                    wall, cpu, requests, chain ? Hops.of(runs) : null);
        }

        double tasksPerSecond() {
            return tasks / seconds;
        }
    }

    /**
     * The hops of chains: from one task's end to the next one's end, split at the next one's dispatch (orchestration:
     * the end is recorded, the run finds the next task ready, queues it, the saga dispatches it; then execution: the
     * backend runs it and its report comes back); pickup is the part of execution until the attempt was started (for a
     * worker: handed to its poll).
     */
    record Hops(double[] total, double[] orchestration, double[] execution, double[] pickup, String slowest) {

        static Hops of(List<DagyClient.Run> runs) {
            List<Double> total = new ArrayList<>();
            List<Double> orchestration = new ArrayList<>();
            List<Double> execution = new ArrayList<>();
            List<Double> pickup = new ArrayList<>();
            double slowestTotal = -1;
            String slowest = null;
            for (DagyClient.Run run : runs) {
                List<String> order = run.order().stream().sorted().toList();
                for (int i = 1; i < order.size(); i++) {
                    DagyClient.Attempt before = run.tasks().get(order.get(i - 1));
                    DagyClient.Attempt next = run.tasks().get(order.get(i));
                    total.add(millis(before.endedAt(), next.endedAt()));
                    orchestration.add(millis(before.endedAt(), next.dispatchedAt()));
                    execution.add(millis(next.dispatchedAt(), next.endedAt()));
                    if (next.startedAt() != null) {
                        pickup.add(millis(next.dispatchedAt(), next.startedAt()));
                    }
                    if (total.get(total.size() - 1) > slowestTotal) {
                        slowestTotal = total.get(total.size() - 1);
                        slowest = String.format(java.util.Locale.ROOT, "%.0f ms to %s/%s (%s): orchestration %.0f ms,"
                                        + " execution %.0f ms, pickup %s ms", slowestTotal, run.id(), order.get(i), next.endedAt(),
                                orchestration.get(orchestration.size() - 1), execution.get(execution.size() - 1),
                                next.startedAt() == null ? "-" : String.format(java.util.Locale.ROOT, "%.0f",
                                        millis(next.dispatchedAt(), next.startedAt())));
                    }
                }
            }
            Function<List<Double>, double[]> sorted = values -> values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return new Hops(sorted.apply(total), sorted.apply(orchestration), sorted.apply(execution),
                    sorted.apply(pickup), slowest);
        }

        private static double millis(Instant from, Instant to) {
            return Duration.between(from, to).toNanos() / 1e6;
        }

        static double percentile(double[] sorted, double p) {
            return sorted[(int) Math.min(sorted.length - 1, Math.floor(p / 100.0 * sorted.length))];
        }
    }
}
