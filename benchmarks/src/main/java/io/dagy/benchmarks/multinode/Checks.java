package io.dagy.benchmarks.multinode;

import io.dagy.benchmarks.multinode.MultiNodeKillTest.RunStart;
import io.dagy.benchmarks.multinode.MultiNodeKillTest.Sample;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static io.dagy.benchmarks.multinode.MultiNodeKillTest.seconds;

/**
 * What the kill test checks once every run ended, from the API, the attempts' own records and the tables; each check
 * prints its figures and adds what failed to {@code failures}.
 */
final class Checks {

    private final Api api;
    private final Store store;
    private final Map<String, RunStart> runs;
    private final List<String> nodeNames;
    private final Path directory;
    private final Path localLog;
    private final Path workerLog;
    private final List<Sample> samples;
    private final List<String> failures;

    Checks(Api api, Store store, Map<String, RunStart> runs, List<String> nodeNames, Path directory, Path localLog,
           Path workerLog, List<Sample> samples, List<String> failures) {
        this.api = api;
        this.store = store;
        this.runs = runs;
        this.nodeNames = nodeNames;
        this.directory = directory;
        this.localLog = localLog;
        this.workerLog = workerLog;
        this.samples = samples;
        this.failures = failures;
    }

    void checkRuns(Report report) {
        int attempts = 0;
        int retried = 0;
        Map<String, Integer> byKind = new TreeMap<>();
        for (Map.Entry<String, RunStart> entry : runs.entrySet()) {
            JsonNode run = api.get("/v1/runs/" + entry.getKey());
            if (!run.get("status").asString().equals("SUCCEEDED")) {
                failures.add("run " + entry.getKey() + " (" + entry.getValue().workload() + ") ended "
                        + run.get("status").asString());
            }
            for (JsonNode task : api.tasks(entry.getKey())) {
                if (!task.get("status").asString().equals("SUCCEEDED")) {
                    failures.add("run " + entry.getKey() + ": task " + task.get("task_id").asString() + " is "
                            + task.get("status").asString());
                }
                attempts += task.get("attempts").size();
                if (task.get("attempts").size() > 1) {
                    retried++;
                }
                for (JsonNode attempt : task.get("attempts")) {
                    JsonNode kind = attempt.get("error_kind");
                    if (kind != null && !kind.isNull()) {
                        byKind.merge(kind.asString(), 1, Integer::sum);
                    }
                }
            }
        }
        report.line("runs: %d, every one checked through GET /v1/runs/{id}; attempts %d, tasks retried %d, "
                + "failed attempts by kind %s", runs.size(), attempts, retried, byKind);
    }

    void checkDispatches(Report report) {
        Map<String, List<String>> local = DispatchRecords.read(localLog);
        Map<String, List<String>> work = DispatchRecords.read(workerLog);
        for (Map.Entry<String, List<String>> entry : merge(local, work).entrySet()) {
            if (entry.getValue().size() > 1) {
                failures.add("dispatch " + entry.getKey() + " started " + entry.getValue().size() + " times (on "
                        + entry.getValue() + ")");
            }
        }
        // every attempt that succeeded was started, and started once
        for (String runId : runs.keySet()) {
            for (JsonNode task : api.tasks(runId)) {
                for (JsonNode attempt : task.get("attempts")) {
                    String dispatchId = runId + "/" + task.get("task_id").asString() + "/" + attempt.get("attempt").asInt();
                    if (attempt.get("status").asString().equals("SUCCEEDED")
                            && !local.containsKey(dispatchId) && !work.containsKey(dispatchId)) {
                        failures.add("attempt " + dispatchId + " succeeded but no backend records starting it");
                    }
                }
            }
        }
        Map<String, Long> localPerNode = perNode(local);
        Map<String, Long> workerPerNode = perNode(work);
        report.line("");
        report.line("dispatch ids started: %d by local processes, %d by the worker; most starts of one dispatch id: %d",
                local.size(), work.size(), merge(local, work).values().stream().mapToInt(List::size).max().orElse(0));
        report.line("local attempts started per node (the node whose saga dispatched them): %s", localPerNode);
        report.line("worker attempts handed out per node API the worker polled: %s", workerPerNode);
        List<String> odd = DispatchRecords.lines(workerLog).stream()
                .filter(line -> !line.split(" ")[0].contains("/")).toList();
        if (!odd.isEmpty()) {
            report.line("worker calls refused or failed: %d (%s)", odd.size(), odd.stream().limit(5).toList());
        }
    }

    private static Map<String, List<String>> merge(Map<String, List<String>> a, Map<String, List<String>> b) {
        Map<String, List<String>> all = new TreeMap<>();
        a.forEach((id, where) -> all.computeIfAbsent(id, k -> new ArrayList<>()).addAll(where));
        b.forEach((id, where) -> all.computeIfAbsent(id, k -> new ArrayList<>()).addAll(where));
        return all;
    }

    private Map<String, Long> perNode(Map<String, List<String>> records) {
        return records.values().stream().flatMap(List::stream)
                .map(node -> node.matches("\\d") ? nodeNames.get(Integer.parseInt(node)) : node)
                .collect(Collectors.groupingBy(n -> n, TreeMap::new, Collectors.counting()));
    }

    void checkEffects(Report report, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, String> events;
        Map<String, Store.Effect> effects;
        do {
            events = store.domainEvents();
            effects = store.effects();
            if (effects.keySet().containsAll(events.keySet())) {
                break;
            }
            Thread.sleep(1000);
        } while (System.nanoTime() < deadline);
        int missing = 0;
        int twice = 0;
        for (Map.Entry<String, String> event : events.entrySet()) {
            Store.Effect effect = effects.get(event.getKey());
            if (effect == null) {
                missing++;
                if (missing <= 5) {
                    failures.add("event " + event.getKey() + " (" + event.getValue() + ") was never counted");
                }
            } else if (effect.count() != 1) {
                twice++;
                failures.add("event " + event.getKey() + " (" + event.getValue() + ") was applied " + effect.count()
                        + " times, by " + effect.nodes());
            }
        }
        if (missing > 5) {
            failures.add((missing - 5) + " more events were never counted");
        }
        for (String key : effects.keySet()) {
            if (!events.containsKey(key)) {
                failures.add("counted " + key + ", which is not in the events table");
            }
        }
        Map<String, Long> perNode = effects.values().stream().flatMap(effect -> effect.nodes().stream())
                .collect(Collectors.groupingBy(n -> n, TreeMap::new, Collectors.counting()));
        report.line("");
        report.line("domain events in the events table: %d; counted by the %s processor: %d, exactly once: %d, "
                        + "more than once: %d, never: %d", events.size(), EffectCounting.PROCESSING_GROUP, effects.size(),
                effects.values().stream().filter(e -> e.count() == 1).count(), twice, missing);
        report.line("events handled per node (%s): %s", EffectCounting.PROCESSING_GROUP, perNode);
    }

    void checkTakeover(Report report, String victim, Instant killedAt) {
        Sample atKill = sampleAt(samples, killedAt);
        Map<String, Double> takenAfter = new TreeMap<>();
        List<String> notTaken = new ArrayList<>();
        atKill.owners().forEach((processor, segments) -> segments.forEach((segment, owner) -> {
            if (!owner.equals(victim)) {
                return;
            }
            String key = processor + "/" + segment;
            samples.stream().filter(s -> s.at().isAfter(killedAt))
                    .filter(s -> {
                        String now = s.owners().getOrDefault(processor, Map.of()).getOrDefault(segment, "-");
                        return !now.equals(victim) && !now.equals("-");
                    })
                    .findFirst()
                    .ifPresentOrElse(s -> takenAfter.put(key + " -> " + s.owners().get(processor).get(segment),
                            seconds(killedAt, s.at())), () -> notTaken.add(key));
        }));
        double slowest = takenAfter.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        report.line("");
        report.line("segments %s held at the kill: %d; claimed by another node after (s): %s", victim,
                takenAfter.size() + notTaken.size(), takenAfter.entrySet().stream()
                        .map(e -> String.format(Locale.ROOT, "%s %.1f", e.getKey(), e.getValue()))
                        .collect(Collectors.joining(", ")));
        report.line("slowest takeover: %.1f s (limit %d s)", slowest, MultiNodeKillTest.TAKEOVER_LIMIT.toSeconds());
        if (takenAfter.isEmpty() && notTaken.isEmpty()) {
            failures.add(victim + " held no segment at the kill: nothing was taken over");
        }
        notTaken.forEach(key -> failures.add("segment " + key + " of " + victim + " was never taken over"));
        if (slowest > MultiNodeKillTest.TAKEOVER_LIMIT.toSeconds()) {
            failures.add("a segment of " + victim + " was taken over only after " + slowest + " s");
        }
    }

    /**
     * Stretches in which a segment had no live owner: unclaimed, or still claimed by the killed node. Sampled every
     * 250 ms from the moment the segments were spread until the end.
     */
    void gaps(Report report, String victim, Instant killedAt) {
        Map<String, Instant[]> longest = new TreeMap<>();
        Map<String, Instant> openSince = new TreeMap<>();
        double total = 0;
        Sample previous = null;
        for (Sample sample : samples) {
            for (Map.Entry<String, Map<Integer, String>> processor : sample.owners().entrySet()) {
                for (Map.Entry<Integer, String> segment : processor.getValue().entrySet()) {
                    String key = processor.getKey() + "/" + segment.getKey();
                    boolean idle = segment.getValue().equals("-")
                            || (segment.getValue().equals(victim) && sample.at().isAfter(killedAt));
                    if (idle && previous != null) {
                        total += seconds(previous.at(), sample.at());
                    }
                    if (idle) {
                        Instant since = openSince.computeIfAbsent(key, k -> sample.at());
                        Instant[] best = longest.get(key);
                        if (best == null || seconds(since, sample.at()) > seconds(best[0], best[1])) {
                            longest.put(key, new Instant[] {since, sample.at()});
                        }
                    } else {
                        openSince.remove(key);
                    }
                }
            }
            previous = sample;
        }
        report.line("");
        report.line("segments without a live owner (unclaimed, or claimed by the dead %s): %.0f segment-seconds in all;"
                + " longest stretches (s, and when: s after the kill): %s", victim, total, longest.entrySet().stream()
                .sorted((x, y) -> Double.compare(seconds(y.getValue()[0], y.getValue()[1]),
                        seconds(x.getValue()[0], x.getValue()[1]))).limit(8)
                .map(e -> String.format(Locale.ROOT, "%s %.1f (%+.1f to %+.1f)", e.getKey(),
                        seconds(e.getValue()[0], e.getValue()[1]), seconds(killedAt, e.getValue()[0]),
                        seconds(killedAt, e.getValue()[1])))
                .collect(Collectors.joining(", ")));
        try (var out = Files.newBufferedWriter(directory.resolve("segment-owners.log"), StandardCharsets.UTF_8)) {
            for (Sample sample : samples) {
                out.write(String.format(Locale.ROOT, "%+.2f %s%n", seconds(killedAt, sample.at()), sample.owners()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Probe tasks whose hanging first attempt ran on the killed node: the start-to-close deadline that node scheduled
     * (when its saga dispatched the attempt, moments before the process wrote its start time) must still fire, at most
     * 30 s late. The retry that follows waits for the saga processor, so its delay is reported, not checked.
     */
    void checkProbes(Report report, String probeRun, Map<String, String> probes, String victim, Instant killedAt) {
        Map<String, Instant> startedAt = DispatchRecords.startTimes(localLog);
        report.line("");
        report.line("probe attempts (first attempt hangs; start-to-close %d s) whose deadline %s scheduled:",
                MultiNodeKillTest.PROBE_START_TO_CLOSE.toSeconds(), victim);
        int onVictim = 0;
        for (JsonNode task : api.tasks(probeRun)) {
            String dispatchId = probeRun + "/" + task.get("task_id").asString() + "/1";
            if (!victim.equals(probes.get(dispatchId))) {
                continue;
            }
            onVictim++;
            JsonNode first = task.get("attempts").get(0);
            JsonNode second = task.get("attempts").size() > 1 ? task.get("attempts").get(1) : null;
            Instant due = startedAt.get(dispatchId).plus(MultiNodeKillTest.PROBE_START_TO_CLOSE);
            JsonNode endedNode = first.get("ended_at");
            if (endedNode == null || endedNode.isNull() || second == null) {
                failures.add("probe " + dispatchId + " never timed out and retried");
                continue;
            }
            Instant fired = Instant.parse(endedNode.asString());
            Instant retried = Instant.parse(second.get("dispatched_at").asString());
            report.line("  %s: due %.1f s after the kill, timed out %.1f s after it was due (%s), attempt 2 "
                            + "dispatched %.1f s after that", task.get("task_id").asString(), seconds(killedAt, due),
                    seconds(due, fired), first.get("status").asString(), seconds(fired, retried));
            if (seconds(due, fired) > MultiNodeKillTest.TAKEOVER_LIMIT.toSeconds()) {
                failures.add("probe " + dispatchId + ": its deadline fired " + seconds(due, fired) + " s late");
            }
        }
        if (onVictim == 0) {
            failures.add("no probe attempt ran on " + victim + ": the deadline takeover was not tested");
        }
    }

    void checkLeftovers(Report report) {
        Map<String, Integer> deadlines = store.itemKinds(io.dagy.tables.DagyTable.DEADLINES);
        Map<String, Integer> deadLetters = store.itemKinds(io.dagy.tables.DagyTable.DEAD_LETTERS);
        report.line("");
        report.line("left in the deadlines table after every run ended: %s; dead letters: %s",
                deadlines.isEmpty() ? "nothing" : deadlines, deadLetters.isEmpty() ? "nothing" : deadLetters);
        if (deadlines.containsKey("parked")) {
            failures.add("deadlines were parked: " + deadlines);
        }
        if (!deadLetters.isEmpty()) {
            failures.add("events were parked as dead letters: " + deadLetters);
        }
    }

    /** The last sample taken at or before {@code at}. */
    static Sample sampleAt(List<Sample> samples, Instant at) {
        Sample best = samples.get(0);
        for (Sample sample : samples) {
            if (!sample.at().isAfter(at)) {
                best = sample;
            }
        }
        return best;
    }
}
