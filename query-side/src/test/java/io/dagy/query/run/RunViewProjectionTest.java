package io.dagy.query.run;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunEvents.RunRerunStarted;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.run.RunEvents.TaskOutcomeRecorded;
import io.dagy.contracts.run.RunEvents.TasksNotRun;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunQueries.FindRun;
import io.dagy.contracts.run.RunQueries.ListRunTasks;
import io.dagy.contracts.run.RunQueries.RunDetails;
import io.dagy.contracts.run.RunQueries.TaskCounts;
import io.dagy.contracts.run.RunQueries.TaskPage;
import io.dagy.contracts.run.RunQueries.TaskView;
import io.dagy.contracts.run.RunStatus;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptFailed;
import io.dagy.contracts.run.TaskRunEvents.TaskQueued;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import org.axonframework.eventhandling.AnnotationEventHandlerAdapter;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.jackson3.Jackson3Serializer;
import org.axonframework.eventhandling.ReplayStatus;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import tools.jackson.databind.jsontype.BasicPolymorphicTypeValidator;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The run view's projection on DynamoDB Local, handlers called as a processor would (no transaction open: writes go
 * straight to the table). The first three tests are the defects a review found.
 */
class RunViewProjectionTest {

    private static final DynamoDbClient DYNAMO_DB = LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint());
    private static final OrgId ORG = new OrgId("acme");
    private static final Instant AT = Instant.parse("2026-11-30T06:00:00Z");

    private final String table = createTable();
    private final Serializer serializer = serializer();
    private final RunViews views = new RunViews(DYNAMO_DB, table, serializer);
    private final RunViewProjection projection = new RunViewProjection(views);
    private final RunQueryHandler queries = new RunQueryHandler(views, DYNAMO_DB, serializer);
    private final RunId run = new RunId("r-" + UUID.randomUUID());

    /** a, then b after a: a fails, so b is upstream-failed without ever having a task run. */
    private void firstExecutionWhereAFails() {
        projection.on(started("a", "b"), 0, AT, ReplayStatus.REGULAR);
        projection.on(new TasksReady(run, List.of(task("a")), Map.of(), 0, true), 1);
        projection.on(new TaskQueued(taskRun("a"), run, "a", 0), 0);
        projection.on(new TaskAttemptDispatched(taskRun("a"), 1, run + "/a/1", task("a"), Map.of()), 1, AT);
        projection.on(new TaskAttemptFailed(taskRun("a"), 1, "exit_1", "boom", null), 2, AT);
        projection.on(new TaskRunFinished(taskRun("a"), run, "a", TaskStatus.FAILED, 1, true), 3);
        projection.on(new TaskOutcomeRecorded(run, "a", TaskStatus.FAILED), 2);
        projection.on(new TasksNotRun(run, Map.of("b", TaskStatus.UPSTREAM_FAILED)), 3);
        projection.on(new RunFinished(run, RunStatus.FAILED, List.of("b")), AT, ReplayStatus.REGULAR);
    }

    @Test
    void aTaskThatNeverRanHasNoTaskRunEventApplied() {
        firstExecutionWhereAFails();

        TaskView b = views.task(run.value(), "b").orElseThrow();
        assertThat(b.status()).isEqualTo(TaskStatus.UPSTREAM_FAILED);
        assertThat(b.sequence()).isEqualTo(-1); // was 0: the first event of a task run made later was skipped
    }

    @Test
    void afterARerunTheNewTaskRunsFirstEventsShow() {
        firstExecutionWhereAFails();
        projection.on(new RunRerunStarted(run, List.of("a", "b"), 1), 4);
        projection.on(new TaskQueued(taskRun("a"), run, "a", 1), 4);
        projection.on(new TaskRunFinished(taskRun("a"), run, "a", TaskStatus.SUCCEEDED, 2, true), 6);
        projection.on(new TaskQueued(taskRun("b"), run, "b", 1), 0);

        assertThat(views.task(run.value(), "b").orElseThrow().status()).isEqualTo(TaskStatus.QUEUED);
        projection.on(new TaskAttemptDispatched(taskRun("b"), 1, run + "/b/1", task("b"), Map.of()), 1, AT);
        TaskView b = views.task(run.value(), "b").orElseThrow();
        assertThat(b.status()).isEqualTo(TaskStatus.DISPATCHED);
        assertThat(b.attempts()).hasSize(1);
    }

    @Test
    void aRerunMakesItsTasksPendingAgainKeepingTheirAttempts() {
        firstExecutionWhereAFails();

        projection.on(new RunRerunStarted(run, List.of("a", "b"), 1), 4);

        TaskView a = views.task(run.value(), "a").orElseThrow();
        assertThat(a.status()).isEqualTo(TaskStatus.PENDING);
        assertThat(a.attempts()).hasSize(1);
        assertThat(a.sequence()).isEqualTo(3);
        assertThat(views.task(run.value(), "b").orElseThrow().status()).isEqualTo(TaskStatus.PENDING);
        RunDetails details = queries.handle(new FindRun(ORG, run)).orElseThrow();
        assertThat(details.run().status()).isEqualTo(RunStatus.RUNNING);
        assertThat(details.counts()).isEqualTo(TaskCounts.of(2));
    }

    @Test
    void theResetHandlerEmptiesTheViewsAndAReplayBuildsThemAgain() {
        firstExecutionWhereAFails();
        RunDetails before = queries.handle(new FindRun(ORG, run)).orElseThrow();

        new AnnotationEventHandlerAdapter(projection).prepareReset();

        assertThat(DYNAMO_DB.scan(b -> b.tableName(table)).items()).isEmpty();
        firstExecutionWhereAFails();
        assertThat(queries.handle(new FindRun(ORG, run))).contains(before);
    }

    @Test
    void countsFollowTheRunsDecisionsAndIgnoreARedeliveredEvent() {
        firstExecutionWhereAFails();
        projection.on(new TaskOutcomeRecorded(run, "a", TaskStatus.FAILED), 2); // redelivered

        RunDetails details = queries.handle(new FindRun(ORG, run)).orElseThrow();
        assertThat(details.counts()).isEqualTo(new TaskCounts(0, 0, 0, 1, 0, 0, 0, 1));
        assertThat(details.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(details.tasks()).extracting(TaskView::taskId).containsExactly("a", "b");
    }

    @Test
    void aLargeRunIsReadAPageOfTasksAtATimeInDagOrder() {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 250; i++) {
            ids.add("t" + (1000 - i)); // DAG order is not key order
        }
        projection.on(started(ids.toArray(String[]::new)), 0, AT, ReplayStatus.REGULAR);
        Map<String, TaskStatus> cancelled = new LinkedHashMap<>();
        ids.subList(0, 120).forEach(id -> cancelled.put(id, TaskStatus.CANCELLED));
        projection.on(new TasksNotRun(run, cancelled), 1);

        RunDetails details = queries.handle(new FindRun(ORG, run)).orElseThrow();
        assertThat(details.tasks()).hasSize(RunQueryHandler.FIRST_PAGE);
        assertThat(details.counts().cancelled()).isEqualTo(120);
        assertThat(details.counts().pending()).isEqualTo(130);

        List<TaskView> all = new java.util.ArrayList<>(details.tasks());
        String cursor = details.tasksNextCursor();
        while (cursor != null) {
            TaskPage page = queries.handle(new ListRunTasks(ORG, run, cursor, 70)).orElseThrow();
            all.addAll(page.items());
            cursor = page.nextCursor();
        }
        assertThat(all).extracting(TaskView::taskId).containsExactlyElementsOf(ids);
        assertThat(all.subList(0, 120)).allMatch(task -> task.status() == TaskStatus.CANCELLED);
        assertThat(all.subList(120, 250)).allMatch(task -> task.status() == TaskStatus.PENDING);
    }

    @Test
    void anotherOrganizationsRunIsNotFound() {
        firstExecutionWhereAFails();

        assertThat(queries.handle(new FindRun(new OrgId("other"), run))).isEmpty();
        assertThat(queries.handle(new ListRunTasks(new OrgId("other"), run, null, 10))).isEmpty();
    }

    private RunStarted started(String... taskIds) {
        List<Dag.Task> tasks = new java.util.ArrayList<>();
        for (int i = 0; i < taskIds.length; i++) {
            tasks.add(i == 0 || taskIds.length > 2 ? task(taskIds[i]) : task(taskIds[i], taskIds[i - 1]));
        }
        return new RunStarted(run, ORG, new DeploymentName("etl"), 1, new Dag("test", tasks), Map.of(),
                DeploymentSettings.defaults());
    }

    private TaskRunId taskRun(String taskId) {
        return TaskRunId.of(run, taskId);
    }

    private static Dag.Task task(String id, String... dependsOn) {
        return new Dag.Task(id, new Dag.Backend(BackendType.NOOP, Map.of()), List.of(dependsOn), TriggerRule.ALL_SUCCESS,
                Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
    }

    private static String createTable() {
        String name = DagyTable.RUNS.defaultName("t" + UUID.randomUUID().toString().substring(0, 8));
        new TableBootstrap(DYNAMO_DB).createMissing(Map.of(DagyTable.RUNS, name));
        return name;
    }

    private static Serializer serializer() {
        return Jackson3Serializer.builder()
                .jsonMapperBuilderCustomizer(builder -> builder
                        .polymorphicTypeValidator(BasicPolymorphicTypeValidator.builder()
                                .allowIfSubType("org.axonframework.")
                                .allowIfSubType("io.dagy.")
                                .build()))
                .build();
    }
}
