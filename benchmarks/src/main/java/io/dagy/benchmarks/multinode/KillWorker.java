package io.dagy.benchmarks.multinode;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The kill test's external worker, a JVM of its own: {@code threads} threads long-poll one queue, each going round the
 * nodes (the next node after an empty poll or a failed call, so a dead node costs a thread one failed call). Every
 * attempt it gets is written, before anything else, as a line {@code <dispatch id> <node>} to the log, flushed; the
 * harness counts lines per dispatch id. It completes each attempt after {@code workMillis}, sending the report to the
 * next node if the one it tried fails (a report is idempotent). It ends when its standard input closes.
 * Arguments: log file, queue, threads, work millis, comma-separated node base URLs; the key in {@code DAGY_API_KEY}.
 */
public final class KillWorker {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final BufferedWriter out;
    private final String queue;
    private final long workMillis;
    private final List<URI> nodes;

    private KillWorker(BufferedWriter out, String queue, long workMillis, List<URI> nodes) {
        this.out = out;
        this.queue = queue;
        this.workMillis = workMillis;
        this.nodes = nodes;
    }

    public static void main(String[] args) throws Exception {
        Path log = Path.of(args[0]);
        int threads = Integer.parseInt(args[2]);
        List<URI> nodes = Arrays.stream(args[4].split(",")).map(URI::create).toList();
        KillWorker worker = new KillWorker(Files.newBufferedWriter(log, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND), args[1], Long.parseLong(args[3]), nodes);
        for (int i = 0; i < threads; i++) {
            int first = i % nodes.size();
            String workerId = "kill-worker-" + i;
            Thread thread = new Thread(() -> worker.work(workerId, first), workerId);
            thread.setDaemon(true);
            thread.start();
        }
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // the harness keeps standard input open while it wants this worker
        }
    }

    private void work(String workerId, int first) {
        int node = first;
        while (true) {
            try {
                HttpResponse<String> polled = post(nodes.get(node).resolve("/v1/workers/poll"),
                        Map.of("queue", queue, "worker_id", workerId, "wait_seconds", 2));
                if (polled.statusCode() != 200) {
                    if (polled.statusCode() != 204) {
                        record("POLL-" + polled.statusCode() + " " + node);
                        Thread.sleep(200);
                    }
                    node = (node + 1) % nodes.size();
                    continue;
                }
                JsonNode item = JSON.readTree(polled.body());
                record(item.get("dispatch_id").asString() + " " + node);
                Thread.sleep(workMillis);
                complete(workerId, item, node);
            } catch (IOException unreachable) {
                node = (node + 1) % nodes.size();
                sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Reports success, trying the next node when one cannot be reached, for up to a minute. */
    private void complete(String workerId, JsonNode item, int node) throws InterruptedException {
        String path = "/v1/workers/attempts/" + item.get("run_id").asString() + "/" + item.get("task_id").asString()
                + "/" + item.get("attempt").asInt() + "/complete";
        for (int tries = 0; tries < 200; tries++) {
            try {
                HttpResponse<String> done = post(nodes.get(node).resolve(path),
                        Map.of("worker_id", workerId, "output", Map.of()));
                if (done.statusCode() / 100 == 2) {
                    return;
                }
                if (done.statusCode() / 100 == 4) {
                    record("REFUSED " + item.get("dispatch_id").asString() + " " + done.statusCode() + " " + done.body());
                    return;
                }
            } catch (IOException unreachable) {
                // the node died or is stopping: the next one takes the report
            }
            node = (node + 1) % nodes.size();
            Thread.sleep(300);
        }
        record("GAVE-UP " + item.get("dispatch_id").asString());
    }

    private synchronized void record(String line) {
        try {
            out.write(line);
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static HttpResponse<String> post(URI uri, Object body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20))
                        .header("Content-Type", "application/json")
                        .header("Authorization", "Bearer " + System.getenv("DAGY_API_KEY"))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
