package io.dagy.benchmarks.orchestration;

import io.dagy.benchmarks.Machine;
import io.dagy.benchmarks.orchestration.OrchestrationBenchmark.Hops;
import io.dagy.benchmarks.orchestration.OrchestrationBenchmark.Idle;
import io.dagy.benchmarks.orchestration.OrchestrationBenchmark.Measurement;

import java.util.List;
import java.util.Locale;

/** Prints the orchestration figures to standard output, one plain-text block. */
final class Report {

    void header(String storage, int workerThreads, boolean first) {
        Runtime runtime = Runtime.getRuntime();
        line("");
        line("=== Dagy orchestration benchmark (local profile, embedded stack, data %s, default settings) ===", storage);
        if (!first) {
            line("%-18s %-6s %6s %6s | %8s %9s | %8s %8s %8s | %9s %9s %9s | %8s %9s", "workload", "backend", "runs",
                    "tasks", "total s", "tasks/s", "hop p50", "hop p95", "hop max", "orch p50", "exec p50", "pick p50",
                    "cpu ms/t", "aws req/t");
            return;
        }
        line("machine   %d cores (%s), %s %s", runtime.availableProcessors(), Machine.cpuModel(), System.getProperty("os.name"),
                System.getProperty("os.arch"));
        line("jvm       %s %s, max heap %d MB", System.getProperty("java.vm.name"),
                System.getProperty("java.runtime.version"), runtime.maxMemory() / (1024 * 1024));
        line("worker    a separate JVM with %d threads, each completing at once and asking for its next attempt in the"
                + " report (decision 84)", workerThreads);
        line("times     the server's: first run started_at to last run ended_at; a hop is one chain task's end to the");
        line("          next one's end, split at the next one's dispatch (orchestration | execution)");
        line("");
        line("%-18s %-6s %6s %6s | %8s %9s | %8s %8s %8s | %9s %9s %9s | %8s %9s", "workload", "backend", "runs",
                "tasks", "total s", "tasks/s", "hop p50", "hop p95", "hop max", "orch p50", "exec p50", "pick p50",
                "cpu ms/t", "aws req/t");
    }

    /** Under a row that is the median of several runs: each run's total time, in the order run. */
    void spread(List<Double> seconds) {
        line("%-18s %s", "", seconds.size() + " runs, median above: " + seconds.stream()
                .map(value -> String.format(Locale.ROOT, "%.2f", value)).collect(java.util.stream.Collectors.joining(", ")) + " s");
    }

    void row(Measurement m) {
        Hops hops = m.hops();
        line("%-18s %-6s %6d %6d | %8.2f %9.1f | %8s %8s %8s | %9s %9s %9s | %8.1f %9.1f", m.name(), m.backend(),
                m.runs(), m.tasks(), m.seconds(), m.tasksPerSecond(),
                ms(hops == null ? null : hops.total(), 50), ms(hops == null ? null : hops.total(), 95),
                ms(hops == null ? null : hops.total(), 100),
                ms(hops == null ? null : hops.orchestration(), 50), ms(hops == null ? null : hops.execution(), 50),
                ms(hops == null ? null : hops.pickup(), 50),
                m.cpuSeconds() * 1000 / m.tasks(), (double) m.requests() / m.tasks());
        if (hops != null && hops.slowest() != null) {
            line("%-18s slowest hop: %s", "", hops.slowest());
        }
    }

    void idle(Idle idle, String backend) {
        line("%-18s %-6s idle node (20 s, after the warm-up and 20 s to settle): %.1f AWS requests/s, %.3f cores", "idle", backend,
                idle.requestsPerSecond(), idle.cpuCores());
    }

    /** The resident memory of this JVM: Dagy and its embedded stack (the worker runs in a JVM of its own). */
    void memory(Memory.Resident resident) {
        line("%-18s resident memory of the node (Dagy and its embedded stack): peak %d MB, at the end %d MB",
                "memory", resident.peakMegabytes(), resident.currentMegabytes());
    }

    void ratio(Idle idle, List<Measurement> small, Measurement big) {
        double smallWall = small.stream().mapToDouble(Measurement::wallSeconds).sum();
        int smallTasks = small.stream().mapToInt(Measurement::tasks).sum();
        double smallCpu = small.stream().mapToDouble(Measurement::cpuSeconds).sum() - idle.cpuCores() * smallWall;
        double smallRequests = small.stream().mapToLong(Measurement::requests).sum() - idle.requestsPerSecond() * smallWall;
        double bigCpu = big.cpuSeconds() - idle.cpuCores() * big.wallSeconds();
        double bigRequests = big.requests() - idle.requestsPerSecond() * big.wallSeconds();
        line("");
        line("Per-task cost, %d-task run / %d-task run (shape: one root, parallel tasks, one join; noop backend)",
                big.tasks(), small.get(0).tasks());
        line("  idle node: %.2f cores, %.1f AWS requests/s; both are subtracted for each run's wall time", idle.cpuCores(),
                idle.requestsPerSecond());
        line("  %-28s %10s %12s %14s %12s", "", "tasks", "wall s", "cpu ms/task", "req/task");
        line("  %-28s %10d %12.2f %14.2f %12.2f", small.size() + " runs of " + small.get(0).tasks() + " tasks",
                smallTasks, smallWall, smallCpu * 1000 / smallTasks, smallRequests / smallTasks);
        line("  %-28s %10d %12.2f %14.2f %12.2f", "1 run of " + big.tasks() + " tasks", big.tasks(), big.wallSeconds(),
                bigCpu * 1000 / big.tasks(), bigRequests / big.tasks());
        line("  ratio big/small: cpu %.2f, requests %.2f (aim <= 1.2); the big run took %.1f s, %.1f tasks/s",
                (bigCpu / big.tasks()) / (smallCpu / smallTasks), (bigRequests / big.tasks()) / (smallRequests / smallTasks),
                big.seconds(), big.tasksPerSecond());
    }

    private static String ms(double[] sorted, double percentile) {
        return sorted == null || sorted.length == 0 ? "-" : String.format(Locale.ROOT, "%.0f", Hops.percentile(sorted, percentile));
    }

    private static void line(String format, Object... arguments) {
        System.out.println(String.format(Locale.ROOT, format, arguments));
        System.out.flush();
    }
}
