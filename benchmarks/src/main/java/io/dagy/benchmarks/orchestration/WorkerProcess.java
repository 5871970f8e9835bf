package io.dagy.benchmarks.orchestration;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** A {@link BenchWorker} in its own JVM, on the benchmark's class path; it ends when closed. */
final class WorkerProcess implements AutoCloseable {

    private final Process process;

    private WorkerProcess(Process process) {
        this.process = process;
    }

    /** The worker authenticates with {@code apiKey}, passed in its environment (not its command line, which others see). */
    static WorkerProcess start(URI base, String queue, int threads, String apiKey) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-cp", classPath(),
                BenchWorker.class.getName(), base.toString(), queue, Integer.toString(threads)));
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
            builder.environment().put("DAGY_API_KEY", apiKey);
            Process process = builder.start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            if (!"ready".equals(first)) {
                process.destroyForcibly();
                throw new IllegalStateException("the worker process did not start: " + first);
            }
            return new WorkerProcess(process);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The class path this class was loaded from: under {@code exec:java} that is the class loader Maven built (its
     * {@code java.class.path} is Maven's own), otherwise the JVM's.
     */
    private static String classPath() {
        if (WorkerProcess.class.getClassLoader() instanceof URLClassLoader loader && loader.getURLs().length > 0) {
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

    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
