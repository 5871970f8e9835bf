package io.dagy.benchmarks.multinode;

import io.dagy.gateway.DagyApplication;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One Dagy node in a JVM of its own, started as a user starts it ({@code java -cp ... DagyApplication}, {@code local}
 * profile) with settings on the command line; its standard output and error go to {@code <name>.log}. The first node
 * starts the local stack (DynamoDB Local on disk); the others join it ({@code dagy.local.join}). A node can be killed
 * ({@code SIGKILL}: no shutdown hook, no release of claims), stopped gracefully ({@code SIGTERM}: Spring closes the
 * context) and started again on the same port.
 */
final class Node {

    /** Same ports and files for every node; {@code join} for all but the first. */
    record Stack(int dynamoDbPort, int sqsPort, int s3Port, Path dataDirectory, Path apiKeyFile, String environment) {
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final int port;
    private final boolean join;
    private final Stack stack;
    private final Path log;
    private Process process;

    Node(String name, boolean join, Stack stack, Path logDirectory) {
        this.name = name;
        this.port = freePort();
        this.join = join;
        this.stack = stack;
        this.log = logDirectory.resolve(name + ".log");
    }

    String name() {
        return name;
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + port);
    }

    Path log() {
        return log;
    }

    Process process() {
        return process;
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** Starts the JVM; returns at once (see {@link #awaitHealthy}). */
    void start() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("spring.profiles.active", "local");
        // one more processor that counts every event it handles (EffectCounting)
        settings.put("spring.main.sources", EffectCounting.class.getName());
        settings.put("server.port", Integer.toString(port));
        settings.put("dagy.environment", stack.environment());
        settings.put("dagy.event-store.node-id", name);
        settings.put("dagy.local.join", Boolean.toString(join));
        settings.put("dagy.local.in-memory", "false");
        settings.put("dagy.local.data-directory", stack.dataDirectory().toString());
        settings.put("dagy.local.api-key-file", stack.apiKeyFile().toString());
        settings.put("dagy.local.dynamo-db-port", Integer.toString(stack.dynamoDbPort()));
        settings.put("dagy.local.sqs-port", Integer.toString(stack.sqsPort()));
        settings.put("dagy.local.s3-port", Integer.toString(stack.s3Port()));
        // the worker polls far more often than one API key may (120 a minute)
        settings.put("dagy.rate-limit.enabled", "false");
        // what the harness reads in the logs: dispatches found started before, segments given up by the balancer
        settings.put("logging.level.io.dagy.saga.backend", "INFO");
        settings.put("logging.level.io.dagy.gateway.axon.SegmentBalancer", "INFO");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                join ? "-Xmx512m" : "-Xmx1g",
                "-cp", classPath(), DagyApplication.class.getName()));
        settings.forEach((key, value) -> command.add("--" + key + "=" + value));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // a local task's command writes this next to its dispatch id: which node ran it
        builder.environment().put("KILL_TEST_NODE", name);
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until {@code GET /health} answers 200. */
    void awaitHealthy(Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log);
            }
            if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains("Application run failed")) {
                throw new IllegalStateException(name + " failed to start; see " + log);
            }
            try {
                HttpResponse<Void> response = HTTP.send(HttpRequest.newBuilder(base().resolve("/health"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException(name + " not healthy within " + timeout + "; see " + log);
    }

    /** {@code kill -9}: the JVM ends at once, no shutdown hook runs, its claims stay until they expire. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** {@code SIGTERM}: Spring closes the context (releases claims, removes its heartbeat) and the JVM exits. */
    void stop(Duration timeout) throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    /**
     * The class path this class was loaded from: under {@code exec:java} that is the class loader Maven built (its
     * {@code java.class.path} is Maven's own), otherwise the JVM's.
     */
    static String classPath() {
        if (Node.class.getClassLoader() instanceof URLClassLoader loader && loader.getURLs().length > 0) {
            List<String> entries = new ArrayList<>();
            for (URL url : loader.getURLs()) {
                try {
                    entries.add(new File(url.toURI()).getPath());
                } catch (URISyntaxException e) {
                    throw new IllegalStateException(e);
                }
            }
            return entries.stream().collect(Collectors.joining(File.pathSeparator));
        }
        return System.getProperty("java.class.path");
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
