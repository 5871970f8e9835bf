package io.dagy.projection.usage;

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
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptFailed;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptStarted;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptSucceeded;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.eventstore.tokens.ClaimEpochs;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.eventstore.tx.OwnedItems;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.projection.usage.UsageAggregates.Granularity;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.eventhandling.ReplayStatus;
import org.axonframework.messaging.MetaData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The usage projection's handlers against DynamoDB Local, called as a processor calls them: totals are exact under
 * redelivery, after a crash mid-batch, and with two writers adding to one organization's period at once.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class UsageProjectionTest {

    private static final Instant T0 = Instant.parse("2026-11-30T02:15:00Z");

    @Autowired
    DynamoDbClient dynamoDb;

    @Autowired
    DagyResources resources;

    private UsageProjection usage;
    private String org;

    @BeforeEach
    void aFreshOrganization() {
        org = "usage-" + UUID.randomUUID().toString().substring(0, 8);
        usage = new UsageProjection(dynamoDb, resources.table(DagyTable.USAGE_EVENTS),
                new UsageAggregates(dynamoDb, resources.table(DagyTable.USAGE_AGGREGATES)));
    }

    @Test
    void aRedeliveredRunStartedCountsOnce() {
        RunStarted started = runStarted("r-one");

        usage.on(started, "event-1", T0);
        usage.on(started, "event-1", T0);

        for (Granularity granularity : Granularity.values()) {
            assertThat(totals(granularity)).containsEntry(UsageProjection.RUNS_STARTED, 1L);
        }
    }

    @Test
    void anAttemptIsBilledFromItsStartToItsEndOnceWhateverIsDeliveredAgain() {
        usage.on(runStarted("r-two"), "event-run", T0);
        TaskRunId task = new TaskRunId("r-two/only");
        usage.on(dispatched(task, 1), T0.plusMillis(100), ReplayStatus.REGULAR);
        usage.on(new TaskAttemptStarted(task, 1), T0.plusMillis(250));
        usage.on(new TaskAttemptStarted(task, 1), T0.plusMillis(250));
        usage.on(new TaskAttemptFailed(task, 1, "error", "boom", Duration.ofSeconds(1)), T0.plusMillis(1_750), metaData());
        usage.on(new TaskAttemptFailed(task, 1, "error", "boom", Duration.ofSeconds(1)), T0.plusMillis(1_750), metaData());
        usage.on(dispatched(task, 2), T0.plusMillis(3_000), ReplayStatus.REGULAR);
        usage.on(new TaskAttemptSucceeded(task, 2, Map.of()), T0.plusMillis(3_500), metaData());
        usage.on(new TaskRunFinished(task, new RunId("r-two"), "only", TaskStatus.SUCCEEDED, 2), T0.plusMillis(3_600), metaData());
        usage.on(new TaskAttemptSucceeded(task, 2, Map.of()), T0.plusMillis(3_500), metaData());

        Map<String, Long> hour = totals(Granularity.HOUR);
        assertThat(hour).containsEntry(UsageProjection.attemptsMetric("small", "noop"), 2L);
        // 1.5 s from its start for attempt 1; 0.5 s from its dispatch for attempt 2, which reported no start
        assertThat(hour).containsEntry(UsageProjection.billableMetric("small", "noop"), 2_000L);
        assertThat(totals(Granularity.MONTH)).isEqualTo(hour);
    }

    @Test
    void anAttemptReadBeforeItsRunsStartIsMeteredWithTheRunsTierWhenTheStartArrives() {
        TaskRunId task = new TaskRunId("r-late/only");
        usage.on(dispatched(task, 1), T0.plusMillis(100), ReplayStatus.REGULAR);
        usage.on(new TaskAttemptSucceeded(task, 1, Map.of()), T0.plusMillis(900), metaData());
        assertThat(totals(Granularity.DAY)).isEmpty();

        RunStarted started = new RunStarted(new RunId("r-late"), new OrgId(org), new DeploymentName("metered"), 1,
                new Dag(null, List.of(task())), Map.of(), new DeploymentSettings("large", List.of(), Map.of()));
        usage.on(started, "event-late", T0);
        usage.on(new TaskAttemptSucceeded(task, 1, Map.of()), T0.plusMillis(900), metaData());

        Map<String, Long> day = totals(Granularity.DAY);
        assertThat(day).containsEntry(UsageProjection.attemptsMetric("large", "noop"), 1L)
                .containsEntry(UsageProjection.billableMetric("large", "noop"), 800L)
                .doesNotContainKey(UsageProjection.attemptsMetric("unknown", "noop"));
    }

    @Test
    void aCancelEndsTheAttemptInFlight() {
        usage.on(runStarted("r-three"), "event-run", T0);
        TaskRunId task = new TaskRunId("r-three/only");
        usage.on(dispatched(task, 1), T0, ReplayStatus.REGULAR);
        usage.on(new TaskAttemptStarted(task, 1), T0.plusSeconds(1));
        usage.on(new TaskRunFinished(task, new RunId("r-three"), "only", TaskStatus.CANCELLED, 1), T0.plusSeconds(4), metaData());

        assertThat(totals(Granularity.DAY)).containsEntry(UsageProjection.billableMetric("small", "noop"), 3_000L);
    }

    @Test
    void aCrashMidBatchWritesNothingAndTheBatchHandledAgainCountsEachEventOnce() {
        DynamoTransactionManager transactions = new DynamoTransactionManager(dynamoDb);
        Transaction crashed = transactions.startTransaction();
        for (int i = 0; i < 3; i++) {
            usage.on(runStarted("r-batch-" + i), "event-" + i, T0.plusSeconds(i));
        }
        crashed.rollback();   // the node died before its commit: neither totals nor token were written
        assertThat(totals(Granularity.DAY)).isEmpty();

        for (int delivery = 0; delivery < 2; delivery++) {   // handled again, then delivered once more
            Transaction batch = transactions.startTransaction();
            for (int i = 0; i < 3; i++) {
                usage.on(runStarted("r-batch-" + i), "event-" + i, T0.plusSeconds(i));
            }
            batch.commit();
        }

        assertThat(totals(Granularity.DAY)).containsEntry(UsageProjection.RUNS_STARTED, 3L);
        assertThat(usageEvents()).hasSize(3);
    }

    /**
     * An attempt's first dispatch presumes its metering state absent (decision 93). Handled again on a node that
     * remembers nothing, after the attempt was metered, the state's conditional create refuses the commit; the retry
     * reads the state, skips it, and the attempt is not metered twice.
     */
    @Test
    void aDispatchHandledAgainAfterItsAttemptWasMeteredChangesNothing() {
        usage.on(runStarted("r-again"), "event-run", T0);
        TaskRunId task = new TaskRunId("r-again/only");
        usage.on(dispatched(task, 1), T0.plusMillis(100), ReplayStatus.REGULAR);
        usage.on(new TaskAttemptSucceeded(task, 1, Map.of()), T0.plusMillis(600), metaData());
        Map<String, Long> metered = totals(Granularity.DAY);
        assertThat(metered).containsEntry(UsageProjection.attemptsMetric("small", "noop"), 1L);

        UsageProjection elsewhere = new UsageProjection(dynamoDb, resources.table(DagyTable.USAGE_EVENTS),
                new UsageAggregates(dynamoDb, resources.table(DagyTable.USAGE_AGGREGATES)),
                new OwnedItems(UsageProjection.PROCESSING_GROUP, new ClaimEpochs(), 100));
        DynamoTransactionManager transactions = new DynamoTransactionManager(dynamoDb);
        Transaction presumed = transactions.startTransaction();
        elsewhere.on(dispatched(task, 1), T0.plusMillis(100), ReplayStatus.REGULAR);
        assertThatThrownBy(presumed::commit).hasMessageContaining("presumed absent");

        Transaction retry = transactions.startTransaction();
        elsewhere.on(dispatched(task, 1), T0.plusMillis(100), ReplayStatus.REGULAR);
        elsewhere.on(new TaskAttemptSucceeded(task, 1, Map.of()), T0.plusMillis(600), metaData());
        retry.commit();

        assertThat(totals(Granularity.DAY)).isEqualTo(metered);
    }

    @Test
    void twoSegmentsAddingToOnePeriodAtOnceLoseNoAddition() throws Exception {
        ExecutorService segments = Executors.newFixedThreadPool(2);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new java.util.ArrayList<>();
        for (int segment = 0; segment < 2; segment++) {
            int s = segment;
            done.add(segments.submit(() -> {
                start.await();
                for (int i = 0; i < 25; i++) {
                    usage.on(runStarted("r-" + s + "-" + i), "event-" + s + "-" + i, T0.plusMillis(i));
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> future : done) {
            future.get();
        }
        segments.shutdown();

        assertThat(totals(Granularity.HOUR)).containsEntry(UsageProjection.RUNS_STARTED, 50L);
        assertThat(usageEvents()).hasSize(50);
    }

    private Map<String, Long> totals(Granularity granularity) {
        var item = dynamoDb.getItem(b -> b.tableName(resources.table(DagyTable.USAGE_AGGREGATES)).consistentRead(true)
                .key(UsageAggregates.key(org, granularity, granularity.periodOf(T0)))).item();
        return item == null || item.isEmpty() ? Map.of() : UsageAggregates.totalsOf(item);
    }

    private List<Map<String, AttributeValue>> usageEvents() {
        return dynamoDb.query(b -> b.tableName(resources.table(DagyTable.USAGE_EVENTS)).consistentRead(true)
                .keyConditionExpression("pk = :pk").expressionAttributeValues(Map.of(":pk",
                        AttributeValue.fromS("usage-events#" + org + "#" + Granularity.DAY.periodOf(T0))))).items();
    }

    private RunStarted runStarted(String runId) {
        return new RunStarted(new RunId(runId), new OrgId(org), new DeploymentName("metered"), 1,
                new Dag(null, List.of(task())), Map.of(), DeploymentSettings.defaults());
    }

    private static Dag.Task task() {
        return new Dag.Task("only", new Dag.Backend(BackendType.NOOP, Map.of()), List.of(), TriggerRule.ALL_SUCCESS,
                Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
    }

    private static TaskAttemptDispatched dispatched(TaskRunId task, int attempt) {
        return new TaskAttemptDispatched(task, attempt, task + "/" + attempt, task(), Map.of());
    }

    private MetaData metaData() {
        return MetaData.with(MessageKeys.ORG_ID, org);
    }
}
