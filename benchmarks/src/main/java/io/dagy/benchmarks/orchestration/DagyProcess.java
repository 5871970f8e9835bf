package io.dagy.benchmarks.orchestration;

import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Dagy as a user starts it ({@code local} profile, embedded AWS stack, default settings), in this JVM, on free ports,
 * with its data on disk in a fresh directory (the default a user starts with) or in memory. Its warnings go to
 * standard error (this module's {@code logback.xml}), so standard output keeps only the figures.
 */
final class DagyProcess implements AutoCloseable {

    private final ConfigurableApplicationContext context;
    private final URI base;

    private DagyProcess(ConfigurableApplicationContext context, URI base) {
        this.context = context;
        this.base = base;
    }

    /** Where the embedded stack keeps its data. */
    enum Storage {
        DISK, MEMORY;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static DagyProcess start(Storage storage, Map<String, String> overrides) {
        Map<String, String> settings = new java.util.LinkedHashMap<>();
        settings.put("server.port", "0");
        settings.put("dagy.environment", "bench");
        settings.put("dagy.local.in-memory", Boolean.toString(storage == Storage.MEMORY));
        if (storage == Storage.DISK) {
            settings.put("dagy.local.data-directory", dataDirectory());
        }
        // the owner key of this throwaway store: never over the developer's own .dagy/api-key
        settings.put("dagy.local.api-key-file", ownerKeyFile());
        // the benchmark's workers poll far faster than one API key may (120 a minute): measure orchestration
        settings.put("dagy.rate-limit.enabled", "false");
        settings.put("dagy.local.dynamo-db-port", Integer.toString(freePort()));
        settings.put("dagy.local.sqs-port", Integer.toString(freePort()));
        settings.put("dagy.local.s3-port", Integer.toString(freePort()));
        settings.putAll(overrides);
        List<String> args = new ArrayList<>();
        settings.forEach((key, value) -> args.add("--" + key + "=" + value));
        ConfigurableApplicationContext context = new SpringApplicationBuilder(DagyApplication.class)
                .profiles("local")
                .run(args.toArray(String[]::new));
        String port = context.getEnvironment().getProperty("local.server.port");
        return new DagyProcess(context, URI.create("http://127.0.0.1:" + port));
    }

    URI base() {
        return base;
    }

    /** A bean of the running application (the benchmark reads the event store directly). */
    <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    /** The owner API key the application made at start (the local profile's newcomer key). */
    String apiKey() {
        return context.getBean(LocalOwnerKey.class).key();
    }

    /** A fresh data directory, removed when the JVM ends (DynamoDB Local's files among it). */
    private static String dataDirectory() {
        try {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("dagy-bench-data");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            return dir.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(java.nio.file.Path dir) {
        try (var paths = java.nio.file.Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory: the system cleans it eventually
        }
    }

    private static String ownerKeyFile() {
        try {
            java.nio.file.Path file = java.nio.file.Files.createTempFile("dagy-bench-key", "");
            file.toFile().deleteOnExit();
            return file.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        context.close();
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
