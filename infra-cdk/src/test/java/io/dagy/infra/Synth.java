package io.dagy.infra;

import org.junit.jupiter.api.Assumptions;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.assertions.Template;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Synthesizes each environment's stacks once per test JVM (jsii runs the CDK on Node.js, which takes seconds) and
 * hands the templates to every test class. Without {@code node} on the PATH the CDK cannot run at all: the tests are
 * then skipped, visibly, with the reason.
 */
final class Synth {

    static final Path ENVIRONMENTS = Path.of(System.getProperty("dagy.environments", "environments"));
    static final Path OUT = Path.of(System.getProperty("dagy.cdk.out", "target/cdk.out"));

    private static final Map<String, Synthesized> CACHE = new ConcurrentHashMap<>();
    private static Boolean nodeAvailable;

    record Synthesized(Settings settings, Template service, Template images, DagyApp.Stacks stacks) {
    }

    private Synth() {
    }

    /** Every environment file in {@code infra-cdk/environments}: a new one is synthesized and checked too. */
    static List<String> environments() throws java.io.IOException {
        try (Stream<Path> files = Files.list(ENVIRONMENTS)) {
            return files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".yml"))
                    .map(f -> f.substring(0, f.length() - ".yml".length())).sorted().toList();
        }
    }

    /** Skips the calling test, with the reason, when Node.js is missing. */
    static void requireNode() {
        Assumptions.assumeTrue(nodeAvailable(), "Node.js (`node`) is not on the PATH: the CDK's Java binding runs the"
                + " CDK on Node.js, so the infra-cdk templates cannot be synthesized on this machine");
    }

    static synchronized boolean nodeAvailable() {
        if (nodeAvailable == null) {
            try {
                Process node = new ProcessBuilder(System.getProperty("dagy.node", "node"), "--version").redirectErrorStream(true).start();
                nodeAvailable = node.waitFor(30, TimeUnit.SECONDS) && node.exitValue() == 0;
            } catch (Exception e) {
                nodeAvailable = false;
            } 
        }
        return nodeAvailable;
    }

    /** The stacks of {@code environments/<environment>.yml}, synthesized into {@code target/cdk.out/<environment>}. */
    static Synthesized environment(String environment) {
        requireNode();
        return CACHE.computeIfAbsent(environment, name -> {
            try {
                Files.createDirectories(OUT);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            Settings settings = SettingsFile.load(ENVIRONMENTS, name);
            App app = new App(AppProps.builder().outdir(OUT.resolve(name).toString()).build());
            DagyApp.Stacks stacks = DagyApp.build(app, settings);
            app.synth();
            return new Synthesized(settings, Template.fromStack(stacks.service()), Template.fromStack(stacks.images()),
                    stacks);
        });
    }
}
