package io.dagy.command.run;

import io.dagy.command.common.DagyRuleViolation;
import io.dagy.command.deployment.DeploymentIds;
import io.dagy.contracts.identity.OrgId;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.run.RunCommands.RecordTaskOutcome;
import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.run.RunEvents.TaskOutcomeRecorded;
import io.dagy.contracts.run.RunEvents.TasksNotRun;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunStatus;
import io.dagy.contracts.run.TaskStatus;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.dagy.contracts.run.TaskStatus.FAILED;
import static io.dagy.contracts.run.TaskStatus.SKIPPED;
import static io.dagy.contracts.run.TaskStatus.SUCCEEDED;
import static io.dagy.contracts.run.TaskStatus.UPSTREAM_FAILED;
import static org.assertj.core.api.Assertions.assertThat;

class RunTest {

    private static final RunId RUN = new RunId("r-1");

    private static final OrgId ACME = new OrgId("acme");

    private AggregateTestFixture<Run> fixture;

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(Run.class);
        fixture.registerCommandTargetResolver(new DagyCommandTargetResolver(new DeploymentIds(name -> false)));
    }

    private static Dag.Task task(String id, TriggerRule rule, String... dependsOn) {
        return new Dag.Task(id, new Dag.Backend(BackendType.NOOP, Map.of()), List.of(dependsOn), rule,
                Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
    }

    private static Dag.Task task(String id, String... dependsOn) {
        return task(id, TriggerRule.ALL_SUCCESS, dependsOn);
    }

    private static Dag diamond() {
        return new Dag("diamond", List.of(task("extract"), task("left", "extract"), task("right", "extract"),
                task("load", "left", "right")));
    }

    private static RunStarted started(Dag dag) {
        return new RunStarted(RUN, ACME, new DeploymentName("etl"), 1, dag, Map.of(), DeploymentSettings.defaults());
    }

    private static TasksReady ready(Dag dag, String... ids) {
        List<Dag.Task> tasks = Arrays.stream(ids)
                .map(id -> dag.tasks().stream().filter(t -> t.id().equals(id)).findFirst().orElseThrow()).toList();
        return new TasksReady(RUN, tasks, Map.of(), 0);
    }

    private static RecordTaskOutcome outcome(String task, TaskStatus status) {
        return new RecordTaskOutcome(RUN, task, status);
    }

    @Test
    void aRunStartsWithItsRootTasks() {
        assertThat(new RunProgress(diamond()).decideStart().ready()).containsExactly("extract");
    }

    @Test
    void aSucceededTaskMakesItsDownstreamReady() {
        Dag dag = diamond();
        fixture.given(started(dag), ready(dag, "extract"))
                .when(outcome("extract", SUCCEEDED))
                .expectEvents(new TaskOutcomeRecorded(RUN, "extract", SUCCEEDED), ready(dag, "left", "right"));
    }

    @Test
    void theJoinWaitsForBothBranchesAndTheRunSucceedsWithItsLeaf() {
        Dag dag = diamond();
        fixture.given(started(dag), ready(dag, "extract"), new TaskOutcomeRecorded(RUN, "extract", SUCCEEDED),
                        ready(dag, "left", "right"), new TaskOutcomeRecorded(RUN, "left", SUCCEEDED))
                .when(outcome("right", SUCCEEDED))
                .expectEvents(new TaskOutcomeRecorded(RUN, "right", SUCCEEDED), ready(dag, "load"));
        fixture.given(started(dag), ready(dag, "extract"), new TaskOutcomeRecorded(RUN, "extract", SUCCEEDED),
                        ready(dag, "left", "right"), new TaskOutcomeRecorded(RUN, "left", SUCCEEDED),
                        new TaskOutcomeRecorded(RUN, "right", SUCCEEDED), ready(dag, "load"))
                .when(outcome("load", SUCCEEDED))
                .expectEvents(new TaskOutcomeRecorded(RUN, "load", SUCCEEDED),
                        new RunFinished(RUN, RunStatus.SUCCEEDED, List.of()));
    }

    @Test
    void aFailureMakesEveryDownstreamTaskUpstreamFailedAndTheRunFailed() {
        Dag dag = diamond();
        Map<String, TaskStatus> notRun = new LinkedHashMap<>();
        notRun.put("left", UPSTREAM_FAILED);
        notRun.put("right", UPSTREAM_FAILED);
        notRun.put("load", UPSTREAM_FAILED);
        fixture.given(started(dag), ready(dag, "extract"))
                .when(outcome("extract", FAILED))
                .expectEvents(new TaskOutcomeRecorded(RUN, "extract", FAILED), new TasksNotRun(RUN, notRun),
                        new RunFinished(RUN, RunStatus.FAILED, List.of("load")));
    }

    @Test
    void aRepeatedOrLateReportChangesNothing() {
        Dag dag = diamond();
        fixture.given(started(dag), ready(dag, "extract"), new TaskOutcomeRecorded(RUN, "extract", SUCCEEDED),
                        ready(dag, "left", "right"))
                .when(outcome("extract", FAILED))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void aFailureAtTheHeadOfALongChainIsDecidedInOneEventNotOnePerTask() {
        List<Dag.Task> chain = new ArrayList<>(List.of(task("t0")));
        for (int i = 1; i < 200; i++) {
            chain.add(task("t" + i, "t" + (i - 1)));
        }
        Dag dag = new Dag("chain", chain);

        fixture.given(started(dag), ready(dag, "t0"))
                .when(outcome("t0", FAILED))
                .expectEventsMatching(org.axonframework.test.matchers.Matchers.exactSequenceOf(
                        org.axonframework.test.matchers.Matchers.messageWithPayload(
                                org.hamcrest.CoreMatchers.instanceOf(TaskOutcomeRecorded.class)),
                        org.axonframework.test.matchers.Matchers.messageWithPayload(
                                org.hamcrest.CoreMatchers.instanceOf(TasksNotRun.class)),
                        org.axonframework.test.matchers.Matchers.messageWithPayload(
                                org.hamcrest.CoreMatchers.instanceOf(RunFinished.class)),
                        org.axonframework.test.matchers.Matchers.andNoMore()));
    }

    @Test
    void anotherOrganizationCannotCancelTheRunAndLearnsNothingOfIt() {
        Dag dag = diamond();
        fixture.given(started(dag), ready(dag, "extract"))
                .when(new io.dagy.contracts.run.RunCommands.CancelRun(RUN, new OrgId("other")))
                .expectException(DagyRuleViolation.class)
                .expectExceptionMessage("No run has id 'r-1'.")
                .expectNoEvents();
    }

    @Test
    void anotherOrganizationCannotRerunTheRun() {
        Dag dag = new Dag("one", List.of(task("only")));
        fixture.given(started(dag), ready(dag, "only"), new TaskOutcomeRecorded(RUN, "only", TaskStatus.FAILED),
                        new RunFinished(RUN, RunStatus.FAILED, List.of("only")))
                .when(new io.dagy.contracts.run.RunCommands.RerunRun(RUN, new OrgId("other")))
                .expectException(DagyRuleViolation.class)
                .expectNoEvents();
    }

    @Test
    void cancellingStopsActiveTasksCancelsTheRestAndEndsCancelledOnceTheActiveOnesReport() {
        Dag dag = diamond();
        Map<String, TaskStatus> cancelled = new LinkedHashMap<>();
        cancelled.put("left", TaskStatus.CANCELLED);
        cancelled.put("right", TaskStatus.CANCELLED);
        cancelled.put("load", TaskStatus.CANCELLED);
        fixture.given(started(dag), ready(dag, "extract"))
                .when(new io.dagy.contracts.run.RunCommands.CancelRun(RUN, ACME))
                .expectEvents(new io.dagy.contracts.run.RunEvents.RunCancelling(RUN, List.of("extract")),
                        new TasksNotRun(RUN, cancelled));
        fixture.given(started(dag), ready(dag, "extract"),
                        new io.dagy.contracts.run.RunEvents.RunCancelling(RUN, List.of("extract")),
                        new TasksNotRun(RUN, cancelled))
                .when(outcome("extract", TaskStatus.CANCELLED))
                .expectEvents(new TaskOutcomeRecorded(RUN, "extract", TaskStatus.CANCELLED),
                        new RunFinished(RUN, RunStatus.CANCELLED, List.of("load")));
    }

    @Test
    void aTaskThatSucceedsWhileTheRunIsCancellingStartsNothingNew() {
        Dag dag = diamond();
        fixture.given(started(dag), ready(dag, "extract"),
                        new io.dagy.contracts.run.RunEvents.RunCancelling(RUN, List.of("extract")),
                        new TasksNotRun(RUN, Map.of("left", TaskStatus.CANCELLED, "right", TaskStatus.CANCELLED,
                                "load", TaskStatus.CANCELLED)))
                .when(outcome("extract", SUCCEEDED))
                .expectEvents(new TaskOutcomeRecorded(RUN, "extract", SUCCEEDED),
                        new RunFinished(RUN, RunStatus.CANCELLED, List.of("load")));
    }

    @Test
    void aRerunRunsFailedAndUpstreamFailedTasksAgainAndKeepsSucceededOnes() {
        Dag dag = diamond();
        Map<String, TaskStatus> upstreamFailed = new LinkedHashMap<>();
        upstreamFailed.put("load", UPSTREAM_FAILED);
        var history = new Object[] {started(dag), ready(dag, "extract"), new TaskOutcomeRecorded(RUN, "extract", SUCCEEDED),
                ready(dag, "left", "right"), new TaskOutcomeRecorded(RUN, "left", SUCCEEDED),
                new TaskOutcomeRecorded(RUN, "right", FAILED), new TasksNotRun(RUN, upstreamFailed),
                new RunFinished(RUN, RunStatus.FAILED, List.of("load"))};
        Dag.Task right = dag.tasks().get(2);

        fixture.given(history)
                .when(new io.dagy.contracts.run.RunCommands.RerunRun(RUN, ACME))
                .expectEvents(new io.dagy.contracts.run.RunEvents.RunRerunStarted(RUN, List.of("right", "load"), 1),
                        new TasksReady(RUN, List.of(right), Map.of(), 1));
    }

    @Test
    void aRunningRunCannotBeRerun() {
        Dag dag = diamond();
        fixture.given(started(dag), ready(dag, "extract"))
                .when(new io.dagy.contracts.run.RunCommands.RerunRun(RUN, ACME))
                .expectException(io.dagy.command.common.DagyRuleViolation.class);
    }

    @Test
    void anAlwaysTaskRunsAtTheStart() {
        Dag dag = new Dag(null, List.of(task("a"), task("cleanup", TriggerRule.ALWAYS, "a")));

        assertThat(new RunProgress(dag).decideStart().ready()).containsExactly("a", "cleanup");
    }

    /**
     * Two upstream tasks end as given, in that order; the downstream task with the rule is then ready, skipped or
     * upstream-failed ("-" means still undecided after the first outcome).
     */
    @ParameterizedTest(name = "{0}: {1} then {2} -> after first {3}, after both {4}")
    @CsvSource({
            "all_success, SUCCEEDED, SUCCEEDED, -, QUEUED",
            "all_success, FAILED, SUCCEEDED, UPSTREAM_FAILED, UPSTREAM_FAILED",
            "all_success, SKIPPED, SUCCEEDED, SKIPPED, SKIPPED",
            "all_failed, FAILED, FAILED, -, QUEUED",
            "all_failed, FAILED, SUCCEEDED, -, SKIPPED",
            "all_done, FAILED, SUCCEEDED, -, QUEUED",
            "one_success, SUCCEEDED, FAILED, QUEUED, QUEUED",
            "one_success, FAILED, FAILED, -, UPSTREAM_FAILED",
            "one_success, SKIPPED, SKIPPED, -, SKIPPED",
            "one_failed, FAILED, SUCCEEDED, QUEUED, QUEUED",
            "one_failed, SUCCEEDED, SUCCEEDED, -, SKIPPED",
            "none_failed, SUCCEEDED, SKIPPED, -, QUEUED",
            "none_failed, SUCCEEDED, FAILED, -, UPSTREAM_FAILED",
            "none_failed_min_one_success, SKIPPED, SKIPPED, -, SKIPPED",
            "none_failed_min_one_success, SKIPPED, SUCCEEDED, -, QUEUED",
            "none_failed_min_one_success, TIMED_OUT, SUCCEEDED, UPSTREAM_FAILED, UPSTREAM_FAILED",
    })
    void triggerRulesDecideFromUpstreamOutcomes(String rule, TaskStatus first, TaskStatus second, String afterFirst,
                                                String afterBoth) {
        Dag dag = new Dag(null, List.of(task("u1"), task("u2"),
                task("d", TriggerRule.fromWire(rule).orElseThrow(), "u1", "u2")));
        RunProgress progress = new RunProgress(dag);
        progress.markQueued(List.of("u1", "u2"));

        progress.markFinal("u1", first);
        String decidedFirst = fate(progress.decideAfter(List.of("u1")));
        if (!"-".equals(decidedFirst)) {
            assertThat(decidedFirst).isEqualTo(afterFirst);
            return;
        }
        assertThat(afterFirst).isEqualTo("-");
        progress.markFinal("u2", second);
        assertThat(fate(progress.decideAfter(List.of("u2")))).isEqualTo(afterBoth);
    }

    private static String fate(RunProgress.Decision decision) {
        if (decision.ready().contains("d")) {
            return "QUEUED";
        }
        TaskStatus notRun = decision.notRun().get("d");
        return notRun == null ? "-" : notRun.name();
    }
}
