package io.dagy.benchmarks.orchestration;

import io.dagy.command.schedule.ScheduleCalendar;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.schedule.OverlapPolicy;
import io.dagy.contracts.schedule.ScheduleSpec;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFired;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Schedules at real speed: {@code bench.schedules} (default 10,000) schedules firing every minute on one node (local
 * profile, in memory), each fire starting a run of one noop task. After they are created, it waits
 * {@code bench.minutes} (default 3) whole minutes and reports, for the fire times of those minutes:
 * <ul>
 *     <li>fire lag: from the fire's due time (fire time plus its jitter) to the {@code ScheduleFired} event (the
 *     deadline poll and claim, the aggregate load and append);</li>
 *     <li>run lag: from the fire time to the run's {@code RunStarted} (plus the saga's hop);</li>
 *     <li>the process's CPU over those minutes (Dagy and this client share the JVM; the client only waits).</li>
 * </ul>
 * Run: {@code ./mvnw -q -pl benchmarks -am -DskipTests package exec:java@schedules} (add
 * {@code -Dbench.schedules=1000} for a smaller run, {@code -Dbench.jitter=PT50S} to spread the fires over each minute).
 */
public final class ScheduleBenchmark {

    private static final int SCHEDULES = Integer.getInteger("bench.schedules", 10_000);
    private static final int MINUTES = Integer.getInteger("bench.minutes", 3);
    /** A jitter for every schedule ({@code PT50S}), or none: all fire at second 0 of each minute. */
    private static final String JITTER = System.getProperty("bench.jitter");
    private static final ScheduleSpec SPEC = new ScheduleSpec(null, Duration.ofMinutes(1), null, null, null, null,
            JITTER == null ? null : Duration.parse(JITTER), OverlapPolicy.ALLOW_ALL, null);

    private ScheduleBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            run();
        } catch (Exception | Error e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    private static void run() throws Exception {
        try (DagyProcess dagy = DagyProcess.start(DagyProcess.Storage.MEMORY, Map.of())) {
            HttpClient http = HttpClient.newHttpClient();
            String key = dagy.apiKey();
            send(http, dagy.base(), key, "PUT", "/v1/deployments/every-minute",
                    "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}}]}", 200);
            long created = System.nanoTime();
            ExecutorService clients = Executors.newFixedThreadPool(8);
            List<Future<?>> creations = new ArrayList<>();
            for (int i = 0; i < SCHEDULES; i++) {
                creations.add(clients.submit(() -> {
                    send(http, dagy.base(), key, "POST", "/v1/deployments/every-minute/schedules",
                            "{\"interval\": \"PT1M\", \"overlap\": \"allow_all\""
                                    + (JITTER == null ? "" : ", \"jitter\": \"" + JITTER + "\"") + "}", 201);
                    return null;
                }));
            }
            for (Future<?> creation : creations) {
                creation.get();
            }
            clients.shutdown();
            System.err.printf(Locale.ROOT, "created %d schedules in %.1f s%n", SCHEDULES, (System.nanoTime() - created) / 1e9);

            // measure whole minutes that start after every schedule exists
            Instant from = Instant.now().plus(Duration.ofMinutes(1)).truncatedTo(java.time.temporal.ChronoUnit.MINUTES);
            Instant to = from.plus(Duration.ofMinutes(MINUTES)); // fire times in [from, to)
            Thread.sleep(Math.max(0, Duration.between(Instant.now(), from).toMillis()));
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpuStart = os.getProcessCpuTime();
            long wallStart = System.nanoTime();
            Thread.sleep(Duration.between(Instant.now(), to).toMillis());
            long cpu = os.getProcessCpuTime() - cpuStart;
            long wall = System.nanoTime() - wallStart;
            Thread.sleep(60_000); // let the last minute's fires land

            List<Long> fireLags = new ArrayList<>();
            List<Long> runLags = new ArrayList<>();
            try (var stream = dagy.bean(EventStorageEngine.class).readEvents(null, false)) {
                stream.forEach((TrackedEventMessage<?> event) -> {
                    if (event.getPayload() instanceof ScheduleFired fired && inRange(fired.fireTime(), from, to)) {
                        Instant due = fired.fireTime().plus(ScheduleCalendar.of(SPEC).jitter(fired.scheduleId(),
                                fired.fireTime()));
                        fireLags.add(Duration.between(due, event.getTimestamp()).toMillis());
                    } else if (event.getPayload() instanceof RunStarted started
                            && started.params().get("fire_time") instanceof String fireTime
                            && inRange(Instant.parse(fireTime), from, to)) {
                        runLags.add(Duration.between(Instant.parse(fireTime), event.getTimestamp()).toMillis());
                    }
                });
            }
            int cores = Runtime.getRuntime().availableProcessors();
            System.out.printf(Locale.ROOT, "%n%d schedules every minute, jitter %s, %d minutes measured (%s to %s), %d cores%n",
                    SCHEDULES, JITTER == null ? "none" : JITTER, MINUTES, from, to, cores);
            System.out.printf(Locale.ROOT, "fires: %d of %d expected; runs started: %d%n", fireLags.size(),
                    (long) SCHEDULES * MINUTES, runLags.size());
            print("fire lag (fire time -> ScheduleFired)", fireLags);
            print("run lag (fire time -> RunStarted)", runLags);
            System.out.printf(Locale.ROOT, "process CPU: %.0f%% of one core on average (%.1f of %d cores)%n",
                    100.0 * cpu / wall, (double) cpu / wall, cores);
        }
    }

    private static boolean inRange(Instant fireTime, Instant from, Instant to) {
        return !fireTime.isBefore(from) && fireTime.isBefore(to);
    }

    private static void print(String what, List<Long> lags) {
        if (lags.isEmpty()) {
            System.out.printf(Locale.ROOT, "%-40s none%n", what);
            return;
        }
        long[] sorted = lags.stream().mapToLong(Long::longValue).sorted().toArray();
        System.out.printf(Locale.ROOT, "%-40s p50 %d ms, p99 %d ms, max %d ms%n", what, percentile(sorted, 50),
                percentile(sorted, 99), sorted[sorted.length - 1]);
    }

    private static long percentile(long[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    private static void send(HttpClient http, URI base, String key, String method, String path, String body, int status)
            throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve(path))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != status) {
            throw new IllegalStateException(method + " " + path + ": " + response.statusCode() + " " + response.body());
        }
    }

}
