package io.dagy.benchmarks.orchestration;

import io.dagy.gateway.DagyApplication;
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
 * Dagy as a user starts it ({@code local} profile, embedded AWS stack, default settings), in this JVM, in memory and on
 * free ports. Its warnings go to standard error (this module's {@code logback.xml}), so standard output keeps only the
 * figures.
 */
final class DagyProcess implements AutoCloseable {

    private final ConfigurableApplicationContext context;
    private final URI base;

    private DagyProcess(ConfigurableApplicationContext context, URI base) {
        this.context = context;
        this.base = base;
    }

    static DagyProcess start(Map<String, String> overrides) {
        List<String> args = new ArrayList<>(List.of(
                "--server.port=0",
                "--dagy.environment=bench",
                "--dagy.local.in-memory=true",
                // the benchmark's workers poll far faster than one API key may (120 a minute): measure orchestration
                "--dagy.rate-limit.enabled=false",
                "--dagy.local.dynamo-db-port=" + freePort(),
                "--dagy.local.sqs-port=" + freePort(),
                "--dagy.local.s3-port=" + freePort()));
        overrides.forEach((key, value) -> args.add("--" + key + "=" + value));
        ConfigurableApplicationContext context = new SpringApplicationBuilder(DagyApplication.class)
                .profiles("local")
                .run(args.toArray(String[]::new));
        String port = context.getEnvironment().getProperty("local.server.port");
        return new DagyProcess(context, URI.create("http://127.0.0.1:" + port));
    }

    URI base() {
        return base;
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
