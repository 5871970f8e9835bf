package io.dagy.benchmarks;

import java.time.Duration;

/**
 * Benchmarks the DynamoDB event store against DynamoDB Local started in this JVM, and prints the figures. Run it from
 * the repository root with
 *
 * <pre>
 * ./mvnw -q -pl benchmarks -am -DskipTests package exec:java
 * </pre>
 *
 * adding {@code -Dbench.seconds=10}, {@code -Dbench.replayEvents=100000} and the other knobs of
 * {@link BenchmarkConfig} to change the size. {@code benchmarks/README.md} explains each figure and what it does not
 * tell.
 */
public final class EventStoreBenchmark {

    private EventStoreBenchmark() {
    }

    /**
     * Runs every scenario, then ends the JVM (Maven's, under {@code exec:java}) with status 0, or 1 after a failure.
     * The explicit exit is needed: DynamoDB Local's background jobs outlive its {@code stop()} and sleep for minutes
     * before they end, and neither the JVM nor {@code exec:java} returns while they run.
     */
    public static void main(String[] args) {
        int status = 0;
        try {
            run();
        } catch (RuntimeException | Error e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    private static void run() {
        long start = System.nanoTime();
        BenchmarkConfig config = BenchmarkConfig.fromSystemProperties();
        Report report = new Report(System.out);
        Progress.step("starting DynamoDB Local");
        try (BenchmarkEnvironment environment = BenchmarkEnvironment.start(config.settings())) {
            AppendBenchmark appends = new AppendBenchmark(environment, config);
            report.header(config, environment.dynamoDbLocalVersion(), appends.sampleItems());
            if (config.runs("appends")) {
                report.appends(appends.run());
            }
            if (config.runs("replay")) {
                report.replay(new ReplayBenchmark(environment, config).run());
            }
            if (config.runs("load")) {
                report.aggregateLoad(new AggregateLoadBenchmark(environment, config).run());
            }
            Progress.step("stopping DynamoDB Local");
        }
        report.footer(Duration.ofNanos(System.nanoTime() - start));
    }
}
