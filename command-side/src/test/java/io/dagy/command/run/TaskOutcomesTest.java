package io.dagy.command.run;

import io.dagy.command.task.TaskRun;
import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunCommands.RerunRun;
import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunEvents.RunRerunStarted;
import io.dagy.contracts.run.RunEvents.TaskOutcomeRecorded;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.CompleteTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.FailTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.StartTaskAttempt;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptStarted;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptFailed;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptSucceeded;
import io.dagy.contracts.run.TaskRunEvents.TaskQueued;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import org.axonframework.commandhandling.SimpleCommandBus;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.commandhandling.gateway.DefaultCommandGateway;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.modelling.command.Repository;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One hop of a DAG is one commit: the report that ends a task run, the run's record of it, its decision and the task
 * runs it makes ready are appended together (one {@code appendEvents}, which the DynamoDB store writes as one
 * transaction). The store here is Axon's in-memory engine, recording each append; the DynamoDB engine's transaction
 * per append is tested in the event-store module.
 */
class TaskOutcomesTest {

    private static final RunId RUN = new RunId("r-hop");

    /** Each append the store received, as the payload types of its events. */
    private final List<List<Class<?>>> appends = new CopyOnWriteArrayList<>();
    private final List<EventMessage<?>> events = new CopyOnWriteArrayList<>();
    private CommandGateway commands;
    private Repository<Run> runs;
    private Repository<TaskRun> taskRuns;

    @BeforeEach
    void setUp() {
        SimpleCommandBus bus = SimpleCommandBus.builder().build();
        var aggregates = RunTestAccess.onInMemoryStore(batch -> {
            appends.add(batch.stream().<Class<?>>map(EventMessage::getPayloadType).toList());
            events.addAll(batch);
        }, bus);
        runs = aggregates.runs();
        taskRuns = aggregates.taskRuns();
        commands = DefaultCommandGateway.builder().commandBus(bus).build();
    }

    private static Dag.Task task(String id, int maxAttempts, String... dependsOn) {
        return new Dag.Task(id, new Dag.Backend(BackendType.NOOP, Map.of()), List.of(dependsOn), TriggerRule.ALL_SUCCESS,
                new Dag.RetryPolicy(maxAttempts, Duration.ZERO, 1.0, Duration.ZERO, false, List.of("*")),
                new Dag.Timeouts(null, null, null), Map.of());
    }

    /** Starts a run as {@link RunStarter} does: the run and its first task runs in one unit of work. */
    private void start(Dag dag) {
        org.axonframework.messaging.unitofwork.DefaultUnitOfWork.startAndGet(null)
                .execute(() -> RunTestAccess.start(runs, taskRuns, RUN, dag));
    }

    private static TaskRunId id(String task) {
        return TaskRunId.of(RUN, task);
    }

    @Test
    void aRunStartsWithItsFirstTasksDispatchedInTheSameAppend() {
        start(new Dag("chain", List.of(task("a", 1), task("b", 1, "a"))));

        assertThat(appends).containsExactly(List.of(
                io.dagy.contracts.run.RunEvents.RunStarted.class, TasksReady.class, TaskQueued.class,
                TaskAttemptDispatched.class));
        assertThat(payload(TasksReady.class).queued()).isTrue();
    }

    @Test
    void aCompletionRecordsTheOutcomeAndDispatchesTheNextTaskInOneAppend() {
        start(new Dag("chain", List.of(task("a", 1), task("b", 1, "a"))));
        appends.clear();

        commands.sendAndWait(new CompleteTaskAttempt(id("a"), 1, Map.of("rows", 1)));

        assertThat(appends).containsExactly(List.of(TaskAttemptStarted.class, TaskAttemptSucceeded.class,
                TaskRunFinished.class, TaskOutcomeRecorded.class, TasksReady.class, TaskQueued.class,
                TaskAttemptDispatched.class));
        assertThat(payload(TaskRunFinished.class).recordedByRun()).isTrue();
        assertThat(lastPayload(TasksReady.class).queued()).isTrue();
        assertThat(lastPayload(TaskAttemptDispatched.class).taskRunId()).isEqualTo(id("b"));
    }

    @Test
    void theLastCompletionFinishesTheRunInTheSameAppend() {
        start(new Dag("one", List.of(task("a", 1))));
        appends.clear();

        commands.sendAndWait(new CompleteTaskAttempt(id("a"), 1, Map.of()));

        assertThat(appends).containsExactly(List.of(TaskAttemptStarted.class, TaskAttemptSucceeded.class,
                TaskRunFinished.class, TaskOutcomeRecorded.class, RunFinished.class));
    }

    @Test
    void aFailureThatRetriesLeavesTheRunAlone() {
        start(new Dag("one", List.of(task("a", 2))));
        appends.clear();

        commands.sendAndWait(new FailTaskAttempt(id("a"), 1, "exit_1", "boom"));

        assertThat(appends).containsExactly(List.of(TaskAttemptStarted.class, TaskAttemptFailed.class));
    }

    /** A worker's start is recorded in the background; recorded first, the end does not record it again. */
    @Test
    void aStartRecordedBeforeTheEndIsNotRecordedAgain() {
        start(new Dag("one", List.of(task("a", 1))));
        commands.sendAndWait(new StartTaskAttempt(id("a"), 1));
        appends.clear();

        commands.sendAndWait(new CompleteTaskAttempt(id("a"), 1, Map.of()));
        commands.sendAndWait(new StartTaskAttempt(id("a"), 1)); // late: changes nothing

        assertThat(appends).containsExactly(List.of(TaskAttemptSucceeded.class, TaskRunFinished.class,
                TaskOutcomeRecorded.class, RunFinished.class));
    }

    @Test
    void aRepeatedReportAppendsNothing() {
        start(new Dag("chain", List.of(task("a", 1), task("b", 1, "a"))));
        commands.sendAndWait(new CompleteTaskAttempt(id("a"), 1, Map.of()));
        appends.clear();

        commands.sendAndWait(new CompleteTaskAttempt(id("a"), 1, Map.of()));

        assertThat(appends).isEmpty();
        assertThat(events.stream().filter(e -> e.getPayload() instanceof TaskQueued queued
                && queued.taskRunId().equals(id("b")))).hasSize(1);
    }

    @Test
    void aFanOutLargerThanOneTransactionTakesIsLeftToTheOrchestration() {
        List<Dag.Task> tasks = new ArrayList<>(List.of(task("root", 1)));
        IntStream.range(0, InlineQueue.MAX_TASKS + 1).forEach(i -> tasks.add(task("t" + i, 1, "root")));
        start(new Dag("fan", tasks));
        appends.clear();

        commands.sendAndWait(new CompleteTaskAttempt(id("root"), 1, Map.of()));

        assertThat(appends).containsExactly(List.of(TaskAttemptStarted.class, TaskAttemptSucceeded.class,
                TaskRunFinished.class, TaskOutcomeRecorded.class, TasksReady.class));
        assertThat(lastPayload(TasksReady.class).queued()).isFalse();
        assertThat(lastPayload(TasksReady.class).tasks()).hasSize(InlineQueue.MAX_TASKS + 1);
    }

    @Test
    void aFanOutThatFitsIsQueuedWhole() {
        List<Dag.Task> tasks = new ArrayList<>(List.of(task("root", 1)));
        IntStream.range(0, InlineQueue.MAX_TASKS).forEach(i -> tasks.add(task("t" + i, 1, "root")));
        start(new Dag("fan", tasks));
        appends.clear();

        commands.sendAndWait(new CompleteTaskAttempt(id("root"), 1, Map.of()));

        assertThat(appends).hasSize(1);
        assertThat(appends.get(0).stream().filter(TaskAttemptDispatched.class::equals)).hasSize(InlineQueue.MAX_TASKS);
    }

    @Test
    void aRerunsReadyTasksAreLeftToTheOrchestrationWhichRequeuesThem() {
        start(new Dag("chain", List.of(task("a", 1), task("b", 1, "a"))));
        commands.sendAndWait(new FailTaskAttempt(id("a"), 1, "exit_1", "boom"));
        appends.clear();

        commands.sendAndWait(new RerunRun(RUN, OrgId.DEFAULT));

        assertThat(appends).containsExactly(List.of(RunRerunStarted.class, TasksReady.class));
        assertThat(lastPayload(TasksReady.class).queued()).isFalse();
    }

    private <T> T payload(Class<T> type) {
        return events.stream().map(EventMessage::getPayload).filter(type::isInstance).map(type::cast).findFirst()
                .orElseThrow();
    }

    private <T> T lastPayload(Class<T> type) {
        return events.stream().map(EventMessage::getPayload).filter(type::isInstance).map(type::cast)
                .reduce((first, second) -> second).orElseThrow();
    }
}
