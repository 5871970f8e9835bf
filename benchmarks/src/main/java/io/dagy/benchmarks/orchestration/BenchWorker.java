package io.dagy.benchmarks.orchestration;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An external worker, run by the benchmark as a separate process: {@code threads} threads long-poll one queue of
 * {@code POST /v1/workers/poll} and complete every attempt they get at once. It ends when its standard input closes
 * (the benchmark ended or died). Arguments: base URL, queue, threads; the worker key in {@code DAGY_API_KEY}.
 */
public final class BenchWorker {

    private BenchWorker() {
    }

    public static void main(String[] args) throws Exception {
        URI base = URI.create(args[0]);
        String queue = args[1];
        int threads = Integer.parseInt(args[2]);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        JsonMapper json = JsonMapper.builder().build();
        AtomicLong completed = new AtomicLong();
        AtomicLong failures = new AtomicLong();
        for (int i = 0; i < threads; i++) {
            String workerId = "bench-worker-" + ProcessHandle.current().pid() + "-" + i;
            Thread thread = new Thread(() -> work(http, json, base, queue, workerId, completed, failures), workerId);
            thread.setDaemon(true);
            thread.start();
        }
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // the parent keeps standard input open while it wants this worker
        }
        System.err.printf("worker: %d attempts completed, %d failed calls%n", completed.get(), failures.get());
    }

    /**
     * Polls, then completes each attempt asking for the next one in the same call (decision 84), and polls again only
     * when a report hands nothing over.
     */
    private static void work(HttpClient http, JsonMapper json, URI base, String queue, String workerId,
                             AtomicLong completed, AtomicLong failures) {
        JsonNode item = null;
        while (true) {
            try {
                if (item == null) {
                    HttpResponse<String> polled = post(http, json, base.resolve("/v1/workers/poll"),
                            Map.of("queue", queue, "worker_id", workerId, "wait_seconds", 20));
                    if (polled.statusCode() == 204) {
                        continue;
                    }
                    if (polled.statusCode() != 200) {
                        failures.incrementAndGet();
                        Thread.sleep(100);
                        continue;
                    }
                    item = json.readTree(polled.body());
                }
                String path = "/v1/workers/attempts/" + item.get("run_id").asString() + "/"
                        + item.get("task_id").asString() + "/" + item.get("attempt").asInt() + "/complete";
                item = null;
                HttpResponse<String> done = post(http, json, base.resolve(path), Map.of("worker_id", workerId,
                        "output", Map.of(), "poll", Map.of("queue", queue, "wait_seconds", 20)));
                if (done.statusCode() / 100 == 2) {
                    completed.incrementAndGet();
                    if (done.statusCode() == 200) {
                        item = json.readTree(done.body());
                    }
                } else {
                    failures.incrementAndGet();
                }
            } catch (IOException e) {
                failures.incrementAndGet();
                item = null;
                sleep();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static HttpResponse<String> post(HttpClient http, JsonMapper json, URI uri, Object body)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + System.getenv("DAGY_API_KEY"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
