package io.dagy.benchmarks.multinode;

import io.dagy.benchmarks.orchestration.Workloads;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Three Dagy nodes, each a JVM of its own on one local stack: runs of the benchmark shapes complete while one node is
 * killed ({@code SIGKILL}) and another is stopped gracefully and started again. Then it checks, from the API, the
 * tasks' own records and the tables:
 * <ol>
 *     <li>every run and every task {@code SUCCEEDED};</li>
 *     <li>no dispatch id was started twice: every local task appends its dispatch id (and its node) to a file, the
 *     external worker writes every attempt it is handed to its log;</li>
 *     <li>no event was applied twice: an extra processor on every node ({@link EffectCounting}) counts each domain
 *     event in DynamoDB, inside its transaction and not idempotently; every event of the events table must have been
 *     counted exactly once, across the kill, the restart and the rebalancing;</li>
 *     <li>the killed node's segments were claimed by the others within 30 s (from the token items, sampled every
 *     250 ms), and attempts whose start-to-close timeout the killed node had scheduled (probe tasks that hang in
 *     their first attempt) timed out at most 30 s late and were retried.</li>
 * </ol>
 * It prints how segments, dispatches and handled events split over the nodes, and exits with 1 if a check fails.
 * Run it from the repository root:
 * <pre>
 * ./mvnw -q -pl benchmarks -am -DskipTests package exec:java@multinode
 * </pre>
 */
public final class MultiNodeKillTest {

    private static final Duration START_TO_CLOSE = Duration.ofSeconds(20);
    static final Duration PROBE_START_TO_CLOSE = Duration.ofSeconds(40);
    /** After the first probe attempt started, the kill waits at most this long for the others. */
    private static final Duration PROBE_KILL_WITHIN = Duration.ofSeconds(20);
    static final Duration TAKEOVER_LIMIT = Duration.ofSeconds(30);
    private static final int PROBE_TASKS = 12;
    private static final String QUEUE = "kill";

    private final Path directory;
    private final Path localLog;
    private final Path workerLog;
    private final Node.Stack stack;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<String> failures = new ArrayList<>();
    private final List<Sample> samples = new CopyOnWriteArrayList<>();
    private final Map<String, RunStart> runs = new LinkedHashMap<>();
    private final Instant started = Instant.now();
    private Store store;
    private Api api;
    private Process worker;
    private List<ProcessHandle> orphans = List.of();

    /** Owners of every segment at one moment. */
    record Sample(Instant at, Map<String, Map<Integer, String>> owners) {
    }

    record RunStart(String workload, String node) {
    }

    /** A workload: a DAG, how many runs of it, and the number of tasks it has. */
    record Workload(String name, Map<String, Object> spec, int runs) {
        @SuppressWarnings("unchecked")
        int tasks() {
            return ((List<Object>) spec.get("tasks")).size() * runs;
        }
    }

    private MultiNodeKillTest(Path directory) {
        this.directory = directory;
        this.localLog = directory.resolve("local-dispatches.log");
        this.workerLog = directory.resolve("worker-dispatches.log");
        this.stack = new Node.Stack(Node.freePort(), Node.freePort(), Node.freePort(), directory.resolve("data"),
                directory.resolve("api-key"), "kill");
    }

    public static void main(String[] args) {
        int status = 1;
        MultiNodeKillTest test = null;
        try {
            test = new MultiNodeKillTest(Files.createTempDirectory("dagy-kill-test"));
            status = test.run() ? 0 : 1;
        } catch (Exception | Error e) {
            e.printStackTrace();
        } finally {
            if (test != null) {
                test.cleanUp(status == 0);
            }
        }
        System.exit(status);
    }

    private boolean run() throws Exception {
        progress("data, logs and dispatch records in %s", directory);
        Node a = new Node("node-a", false, stack, directory);
        nodes.put(a.name(), a);
        a.start();
        a.awaitHealthy(Duration.ofMinutes(8));
        progress("node-a is up at %s (it started the local stack)", a.base());
        for (String name : List.of("node-b", "node-c")) {
            Node node = new Node(name, true, stack, directory);
            nodes.put(name, node);
            node.start();
        }
        for (Node node : nodes.values()) {
            node.awaitHealthy(Duration.ofMinutes(8));
        }
        progress("node-b and node-c joined at %s and %s", nodes.get("node-b").base(), nodes.get("node-c").base());
        String ownerKey = Files.readString(stack.apiKeyFile(), StandardCharsets.US_ASCII).strip();
        api = new Api(a.base(), ownerKey);
        store = new Store(stack.dynamoDbPort(), stack.environment());
        String workerKey = api.post("/v1/api-keys", Map.of("name", "kill-test worker", "role", "worker"), 201)
                .get("key").asString();
        worker = startWorker(workerKey);

        List<Workload> workloads = workloads();
        for (Workload workload : workloads) {
            api.put("/v1/deployments/" + workload.name(), workload.spec());
        }
        api.put("/v1/deployments/probe", probe());
        awaitSegmentsSpread(Duration.ofSeconds(90));
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleWithFixedDelay(() -> {
            try {
                samples.add(new Sample(Instant.now(), store.owners()));
            } catch (RuntimeException e) {
                progress("sampling the tokens failed: %s", e);
            }
        }, 0, 250, TimeUnit.MILLISECONDS);

        int tasks = workloads.stream().mapToInt(Workload::tasks).sum();
        progress("starting %d runs (%d tasks) round-robin over the three nodes", workloads.stream()
                .mapToInt(Workload::runs).sum(), tasks);
        Instant runsStarted = Instant.now();
        List<Node> entryPoints = List.copyOf(nodes.values());
        int next = 0;
        for (Workload workload : workloads) {
            for (int i = 0; i < workload.runs(); i++) {
                Node node = entryPoints.get(next++ % entryPoints.size());
                String runId = new Api(node.base(), ownerKey).post("/v1/deployments/" + workload.name() + "/runs",
                        Map.of("params", Map.of()), 202).get("run_id").asString();
                runs.put(runId, new RunStart(workload.name(), node.name()));
            }
        }

        awaitProgress(tasks, 0.25, Duration.ofMinutes(5));
        String probeRun = api.post("/v1/deployments/probe/runs", Map.of("params", Map.of()), 202).get("run_id").asString();
        runs.put(probeRun, new RunStart("probe", "node-a"));
        Instant probeStarted = Instant.now();
        progress("probe run %s started: %d tasks whose first attempt hangs past its %d s start-to-close timeout",
                probeRun, PROBE_TASKS, PROBE_START_TO_CLOSE.toSeconds());
        // kill once every probe attempt runs, or well before the first one is due (dispatch is slow on a busy machine)
        Instant firstProbe = null;
        while (probeAttempts().size() < PROBE_TASKS) {
            if (firstProbe == null && !probeAttempts().isEmpty()) {
                firstProbe = Instant.now();
            }
            if (firstProbe != null && Duration.between(firstProbe, Instant.now()).compareTo(PROBE_KILL_WITHIN) > 0) {
                break;
            }
            if (Duration.between(probeStarted, Instant.now()).toMinutes() >= 3) {
                throw new IllegalStateException("no probe attempt started within 3 minutes");
            }
            Thread.sleep(100);
        }
        Map<String, String> probes = probeAttempts();
        Map<String, Long> probesPerNode = probes.values().stream()
                .collect(Collectors.groupingBy(n -> n, TreeMap::new, Collectors.counting()));
        // the node to kill: of the two that joined, the one running more probe attempts (their deadlines are its)
        String victimName = probesPerNode.getOrDefault("node-c", 0L) > probesPerNode.getOrDefault("node-b", 0L)
                ? "node-c" : "node-b";
        String restartedName = victimName.equals("node-b") ? "node-c" : "node-b";
        Node victim = nodes.get(victimName);
        int inFlightAtKill = unfinishedRuns();
        orphans = victim.process().descendants().toList();
        Instant killedAt = Instant.now();
        victim.kill();
        progress("KILLED %s (kill -9) with %d runs unfinished, %d of %d tasks dispatched; probe first attempts "
                + "running per node: %s", victimName, inFlightAtKill, dispatched(), tasks, probesPerNode);

        Thread.sleep(15_000);
        int inFlightAtRestart = unfinishedRuns();
        Node restarted = nodes.get(restartedName);
        Instant stopAt = Instant.now();
        restarted.stop(Duration.ofSeconds(90));
        Instant stoppedAt = Instant.now();
        progress("STOPPED %s gracefully in %.1f s with %d runs unfinished; starting it again", restartedName,
                seconds(stopAt, stoppedAt), inFlightAtRestart);
        restarted.start();
        restarted.awaitHealthy(Duration.ofMinutes(8));
        Instant restartedAt = Instant.now();
        progress("%s is up again after %.1f s", restartedName, seconds(stoppedAt, restartedAt));

        awaitRunsEnded(Duration.ofMinutes(10));
        Instant ended = Instant.now();
        progress("every run ended %.1f s after the first was started", seconds(runsStarted, ended));
        // a last look at the segments once the balancer settled with the restarted node back
        Thread.sleep(15_000);
        sampler.shutdownNow();
        sampler.awaitTermination(5, TimeUnit.SECONDS);
        samples.add(new Sample(Instant.now(), store.owners()));

        Report report = new Report(System.out);
        report.header(tasks, runs.size(), victimName, restartedName, seconds(runsStarted, ended));
        Checks checks = new Checks(api, store, runs, List.copyOf(nodes.keySet()), directory, localLog, workerLog, samples,
                failures);
        checks.checkRuns(report);
        checks.checkDispatches(report);
        checks.checkEffects(report, Duration.ofMinutes(2));
        checks.checkTakeover(report, victimName, killedAt);
        checks.checkProbes(report, probeRun, probes, victimName, killedAt);
        checks.checkLeftovers(report);
        if (inFlightAtKill == 0 || inFlightAtRestart == 0) {
            failures.add("runs were not in flight at the kill (" + inFlightAtKill + ") and at the restart ("
                    + inFlightAtRestart + "): the test did not test what it says");
        }
        checks.gaps(report, victimName, killedAt);
        report.segments("segments before the kill", Checks.sampleAt(samples, killedAt));
        report.segments("segments 30 s after the kill", Checks.sampleAt(samples, killedAt.plusSeconds(30)));
        report.segments("segments at the end (" + restartedName + " back, " + victimName + " dead)",
                samples.get(samples.size() - 1));
        report.logs(nodes.values());
        report.line("");
        report.line("timeline (s after the first run started): kill %.1f, graceful stop %.1f-%.1f, restarted %.1f, "
                        + "last run ended %.1f", seconds(runsStarted, killedAt), seconds(runsStarted, stopAt),
                seconds(runsStarted, stoppedAt), seconds(runsStarted, restartedAt), seconds(runsStarted, ended));
        report.line("runs unfinished at the kill: %d, at the graceful stop: %d; probe first attempts running at the "
                + "kill per node: %s", inFlightAtKill, inFlightAtRestart, probesPerNode);
        report.line("");
        if (failures.isEmpty()) {
            report.line("ALL CHECKS PASSED (%.0f s in all)", seconds(started, Instant.now()));
            return true;
        }
        failures.forEach(failure -> report.line("FAILED: %s", failure));
        return false;
    }

    // ---------------------------------------------------------------------------------------------------- workloads

    /** The benchmark's shapes, scaled down: local tasks record their dispatch, worker tasks go to the worker JVM. */
    private List<Workload> workloads() {
        Map<String, Object> local = localBackend("0.2", false);
        Map<String, Object> quickLocal = localBackend("0", false);
        Map<String, Object> work = Map.of("type", "worker", "queue", QUEUE);
        return List.of(
                new Workload("chain-30-local", withLimits(Workloads.chain(30, local), START_TO_CLOSE), 1),
                new Workload("wide-100-local", withLimits(Workloads.wide(100, quickLocal), START_TO_CLOSE), 1),
                new Workload("layered-4x15-local", withLimits(Workloads.layered(4, 15, quickLocal), START_TO_CLOSE), 1),
                new Workload("concurrent-10x10-local", withLimits(Workloads.chain(10, local), START_TO_CLOSE), 10),
                new Workload("chain-30-worker", withLimits(Workloads.chain(30, work), START_TO_CLOSE), 1),
                new Workload("wide-50-worker", withLimits(Workloads.wide(50, work), START_TO_CLOSE), 1));
    }

    /** Tasks with no dependencies whose first attempt hangs: their start-to-close deadline must fire. */
    private Map<String, Object> probe() {
        Map<String, Object> hang = localBackend("0", true);
        List<Map<String, Object>> tasks = new ArrayList<>();
        for (int i = 0; i < PROBE_TASKS; i++) {
            Map<String, Object> task = new LinkedHashMap<>();
            task.put("id", String.format("probe%02d", i));
            task.put("backend", hang);
            tasks.add(task);
        }
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("description", "tasks whose first attempt hangs");
        spec.put("tasks", tasks);
        return withLimits(spec, PROBE_START_TO_CLOSE);
    }

    /**
     * A local task appends {@code <dispatch id> <node> <epoch seconds>} to the dispatch log, then works for
     * {@code seconds}; a hanging
     * one sleeps 90 s in its first attempt, past its timeout.
     */
    private Map<String, Object> localBackend(String seconds, boolean hangFirstAttempt) {
        String script = "echo \"$DAGY_DISPATCH_ID $KILL_TEST_NODE $(date +%s.%N)\" >> \"$KILL_LOG\"; sleep " + seconds
                + (hangFirstAttempt ? "; if [ \"$DAGY_ATTEMPT\" = 1 ]; then sleep 90; fi" : "");
        return Map.of("type", "local", "command", List.of("sh", "-c", script),
                "env", Map.of("KILL_LOG", localLog.toString()));
    }

    /** Every task gets a start-to-close timeout and up to three attempts on timeout: a task lost with a node retries. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> withLimits(Map<String, Object> spec, Duration startToClose) {
        for (Object task : (List<Object>) spec.get("tasks")) {
            Map<String, Object> map = (Map<String, Object>) task;
            map.put("timeouts", Map.of("start_to_close", startToClose.toString()));
            map.put("retry", Map.of("max_attempts", 3, "initial_interval", "PT1S", "backoff_rate", 2.0,
                    "max_delay", "PT10S", "jitter", false, "retry_on", List.of("timeout")));
        }
        return spec;
    }

    private Process startWorker(String key) throws IOException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", Node.classPath(), KillWorker.class.getName(),
                workerLog.toString(), QUEUE, "6", "100",
                nodes.values().stream().map(node -> node.base().toString()).collect(Collectors.joining(",")));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(directory.resolve("worker.log").toFile()));
        builder.environment().put("DAGY_API_KEY", key);
        Process process = builder.start();
        String first = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        if (!"ready".equals(first)) {
            process.destroyForcibly();
            throw new IllegalStateException("the worker did not start: " + first);
        }
        return process;
    }

    // ------------------------------------------------------------------------------------------------------ waiting

    /** Until every segment of every processor is claimed and every node holds some. */
    private void awaitSegmentsSpread(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, Map<Integer, String>> owners = store.owners();
            Set<String> holders = owners.values().stream().flatMap(s -> s.values().stream()).collect(Collectors.toSet());
            boolean allClaimed = owners.values().stream().flatMap(s -> s.values().stream()).noneMatch("-"::equals);
            if (allClaimed && holders.containsAll(nodes.keySet()) && owners.containsKey(EffectCounting.PROCESSING_GROUP)) {
                progress("segments spread over the nodes: %s", holders);
                return;
            }
            if (System.nanoTime() > deadline) {
                progress("segments not spread over all nodes after %d s (holders %s); going on", timeout.toSeconds(),
                        holders);
                return;
            }
            Thread.sleep(500);
        }
    }

    private void awaitProgress(int tasks, double share, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (dispatched() < share * tasks) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + dispatched() + " of " + tasks + " tasks dispatched");
            }
            Thread.sleep(100);
        }
    }

    private void awaitRunsEnded(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int unfinished;
        long lastReport = 0;
        while ((unfinished = unfinishedRuns()) > 0) {
            if (System.nanoTime() > deadline) {
                failures.add(unfinished + " runs did not finish within " + timeout);
                return;
            }
            if (System.nanoTime() - lastReport > 10_000_000_000L) {
                progress("%d runs unfinished, %d attempts dispatched", unfinished, dispatched());
                lastReport = System.nanoTime();
            }
            Thread.sleep(1000);
        }
    }

    private int unfinishedRuns() {
        int unfinished = 0;
        for (String runId : runs.keySet()) {
            String status = api.get("/v1/runs/" + runId).get("status").asString();
            if (!Set.of("SUCCEEDED", "FAILED", "CANCELLED").contains(status)) {
                unfinished++;
            }
        }
        return unfinished;
    }

    // -------------------------------------------------------------------------------------------------- records

    private int dispatched() {
        return DispatchRecords.read(localLog).size() + DispatchRecords.read(workerLog).size();
    }

    /** First attempts of probe tasks recorded so far: dispatch id to node. */
    private Map<String, String> probeAttempts() {
        Map<String, String> probes = new TreeMap<>();
        DispatchRecords.read(localLog).forEach((id, where) -> {
            if (id.contains("/probe") && id.endsWith("/1")) {
                probes.put(id, where.get(0));
            }
        });
        return probes;
    }

    private void cleanUp(boolean passed) {
        try {
            if (worker != null) {
                worker.getOutputStream().close();
                if (!worker.waitFor(10, TimeUnit.SECONDS)) {
                    worker.destroyForcibly();
                }
            }
            List<Node> reversed = new ArrayList<>(nodes.values());
            java.util.Collections.reverse(reversed);
            for (Node node : reversed) {
                node.stop(Duration.ofSeconds(60));
            }
            orphans.forEach(ProcessHandle::destroyForcibly);
            if (store != null) {
                store.close();
            }
            if (passed) {
                try (var files = Files.walk(directory.resolve("data"))) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
                }
            }
            progress("node logs, dispatch records and segment owners (segment-owners.log) kept in %s", directory);
        } catch (Exception e) {
            progress("cleaning up failed: %s", e);
        }
    }

    static double seconds(Instant from, Instant to) {
        return Duration.between(from, to).toMillis() / 1000.0;
    }

    static void progress(String format, Object... arguments) {
        double seconds = ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0;
        System.err.printf(Locale.ROOT, "[%7.1f s] %s%n", seconds, String.format(Locale.ROOT, format, arguments));
    }
}
