package io.dagy.benchmarks;

import io.dagy.benchmarks.BenchmarkEnvironment.Store;
import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptStarted;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptSucceeded;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.eventstore.events.EventStoreSettings;
import io.dagy.projection.audit.AuditChain;
import io.dagy.projection.audit.AuditReplay;
import io.dagy.projection.usage.UsageAggregates;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.messaging.MetaData;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How long a replay of the audit log and usage takes (docs/audit.md, decision 48): fills a fresh event store on
 * DynamoDB Local (in memory, 4 shards) with runs of one organization as the application writes them (a
 * {@code RunStarted} by an API key, then per task {@code TaskAttemptDispatched}, {@code TaskAttemptStarted},
 * {@code TaskAttemptSucceeded}, {@code TaskRunFinished}: 4 tasks, 17 events a run), then runs {@link AuditReplay} over
 * it into fresh tables and prints the time to read and project every event, and the time of the comparison.
 *
 * <p>{@code ./mvnw -q -pl benchmarks -am -DskipTests package exec:java@audit-replay -Dreplay.events=100000}
 */
public final class AuditReplayBenchmark {

    private static final int TASKS = 4;
    private static final String ORG = "bench";

    private AuditReplayBenchmark() {
    }

    public static void main(String[] args) {
        int events = Integer.getInteger("replay.events", 100_000);
        int threads = Integer.getInteger("replay.fill-threads", 4);
        int runs = events / (1 + TASKS * 4);
        try (BenchmarkEnvironment environment = BenchmarkEnvironment.start(EventStoreSettings.defaults());
             Store store = environment.freshStore()) {
            Progress.step("audit replay: appending %,d runs (%,d events)", runs, runs * (1 + TASKS * 4));
            long fillStart = System.nanoTime();
            AtomicLong next = new AtomicLong();
            List<Thread> fillers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread filler = new Thread(() -> {
                    for (long run = next.getAndIncrement(); run < runs; run = next.getAndIncrement()) {
                        store.engine().appendEvents(run(run));
                    }
                });
                filler.start();
                fillers.add(filler);
            }
            for (Thread filler : fillers) {
                filler.join();
            }
            Duration fill = Duration.ofNanos(System.nanoTime() - fillStart);

            var dynamoDb = environment.dynamoDb();
            AuditReplay replay = new AuditReplay(dynamoDb, store.engine());
            AuditReplay.Tables live = new AuditReplay.Tables("bench-live-audit", "bench-live-usage-events",
                    "bench-live-usage-aggregates");
            AuditReplay.Tables fresh = new AuditReplay.Tables("bench-replay-audit", "bench-replay-usage-events",
                    "bench-replay-usage-aggregates");
            replay.createTables(live);
            replay.createTables(fresh);
            Progress.step("audit replay: replaying");
            long start = System.nanoTime();
            long[] readDone = new long[1];
            AuditReplay.Result result = replay.run(ORG, fresh, new AuditReplay.Live(new AuditChain(dynamoDb, live.auditLogs()),
                            new UsageAggregates(dynamoDb, live.usageAggregates()), live.usageEvents()),
                    read -> {
                        readDone[0] = System.nanoTime();
                        if (read % 50_000 == 0) {
                            Progress.step("audit replay: %,d events read", read);
                        }
                    }, Duration.ZERO);
            Duration project = Duration.ofNanos(readDone[0] - start);
            Duration compare = Duration.ofNanos(System.nanoTime() - readDone[0]);
            System.out.printf("Audit replay on DynamoDB Local %s, %d cores%n", environment.dynamoDbLocalVersion(),
                    Runtime.getRuntime().availableProcessors());
            System.out.printf("  events appended:        %,d in %.1f s (%,.0f/s, %d threads)%n", runs * 17L,
                    fill.toNanos() / 1e9, runs * 17L / (fill.toNanos() / 1e9), threads);
            System.out.printf("  events read:            %,d (%,d of the organization)%n", result.eventsRead(),
                    result.organizationEvents());
            System.out.printf("  read and projected in:  %.1f s (%,.0f events/s)%n", project.toNanos() / 1e9,
                    result.eventsRead() / (project.toNanos() / 1e9));
            System.out.printf("  audit records:          %,d; usage: %s%n", result.audit().replayedRecords(),
                    result.usage().replayedTotals());
            System.out.printf("  comparison took:        %.1f s (against empty live tables)%n", compare.toNanos() / 1e9);
            System.out.printf("  1,000,000 events at this rate: %.0f s%n",
                    1_000_000 / (result.eventsRead() / (project.toNanos() / 1e9)));
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<DomainEventMessage<?>> run(long number) {
        String runId = "r-bench-" + number;
        MetaData byKey = MetaData.with(MessageKeys.ORG_ID, ORG).and(MessageKeys.ACTOR_KIND, "api_key")
                .and(MessageKeys.ACTOR_ID, "key-bench").and(MessageKeys.IP_ADDRESS, "127.0.0.1")
                .and(MessageKeys.USER_AGENT, "bench");
        MetaData bySystem = MetaData.with(MessageKeys.ORG_ID, ORG).and(MessageKeys.ACTOR_KIND, "system")
                .and(MessageKeys.ACTOR_ID, "dagy");
        List<Dag.Task> tasks = new ArrayList<>();
        for (int t = 0; t < TASKS; t++) {
            tasks.add(new Dag.Task("t" + t, new Dag.Backend(BackendType.NOOP, Map.of()), List.of(),
                    TriggerRule.ALL_SUCCESS, Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of()));
        }
        List<DomainEventMessage<?>> events = new ArrayList<>();
        events.add(new GenericDomainEventMessage<>("Run", runId, 0, new RunStarted(new RunId(runId), new OrgId(ORG),
                new DeploymentName("bench"), 1, new Dag(null, tasks), Map.of(), DeploymentSettings.defaults()), byKey));
        for (Dag.Task task : tasks) {
            TaskRunId id = new TaskRunId(runId + "/" + task.id());
            events.add(domain(id, 0, new TaskAttemptDispatched(id, 1, id + "/1", task, Map.of()), bySystem));
            events.add(domain(id, 1, new TaskAttemptStarted(id, 1), bySystem));
            events.add(domain(id, 2, new TaskAttemptSucceeded(id, 1, Map.of()), bySystem));
            events.add(domain(id, 3, new TaskRunFinished(id, new RunId(runId), task.id(), TaskStatus.SUCCEEDED, 1), bySystem));
        }
        return events;
    }

    private static DomainEventMessage<?> domain(TaskRunId id, long sequence, Object payload, MetaData metaData) {
        return new GenericDomainEventMessage<>("TaskRun", id.value(), sequence, payload, metaData);
    }
}
