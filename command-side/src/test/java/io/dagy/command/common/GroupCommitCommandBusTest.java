package io.dagy.command.common;

import io.dagy.command.run.RunTestAccess;
import io.dagy.command.run.TaskOutcomes;
import io.dagy.command.task.TaskRun;
import io.dagy.command.run.Run;
import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunEvents.TaskOutcomeRecorded;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.CompleteTaskAttempt;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptSucceeded;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.SimpleCommandBus;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.commandhandling.gateway.DefaultCommandGateway;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.correlation.SimpleCorrelationDataProvider;
import org.axonframework.messaging.interceptors.CorrelationDataInterceptor;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.modelling.command.Repository;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Outcomes of one run that arrive while another of its outcomes commits are committed together, once it is done, each
 * with its own command's metadata; a group with a refused command, or whose commit fails, is committed command by
 * command. The first completion's append is held in the store, so the others are certain to queue behind it.
 */
class GroupCommitCommandBusTest {

    private static final RunId RUN = new RunId("r-group");
    private static final List<String> OTHERS = List.of("t1", "t2", "t3", "t4");

    /** Each append the store received, as its events. */
    private final List<List<? extends EventMessage<?>>> appends = new CopyOnWriteArrayList<>();
    private final CountDownLatch holdMayCommit = new CountDownLatch(1);
    private final CountDownLatch holdCommitting = new CountDownLatch(1);
    /** When set, the store refuses the next append of more than one task run's end, once. */
    private final AtomicBoolean refuseAGroup = new AtomicBoolean();
    /** When set, the store holds the next append of more than one task run's end until {@link #groupMayCommit}. */
    private final AtomicBoolean holdAGroup = new AtomicBoolean();
    private final CountDownLatch groupMayCommit = new CountDownLatch(1);
    private final CountDownLatch groupCommitting = new CountDownLatch(1);

    private GroupCommitCommandBus bus;
    private CommandGateway commands;
    private Repository<Run> runs;
    private Repository<TaskRun> taskRuns;

    @BeforeEach
    void setUp() {
        bus = new GroupCommitCommandBus(SimpleCommandBus.builder(), NoTransactionManager.INSTANCE, TaskOutcomes::runOf);
        bus.registerHandlerInterceptor(new CorrelationDataInterceptor<>(new SimpleCorrelationDataProvider("actor")));
        var aggregates = RunTestAccess.onInMemoryStore(events -> {
            if (ends(events).contains("hold")) {
                holdCommitting.countDown();
                awaitLatch(holdMayCommit);
            }
            if (ends(events).size() > 1 && holdAGroup.compareAndSet(true, false)) {
                groupCommitting.countDown();
                awaitLatch(groupMayCommit);
            }
            if (ends(events).size() > 1 && refuseAGroup.compareAndSet(true, false)) {
                throw new IllegalStateException("the store refuses this append");
            }
            appends.add(events);
        }, bus);
        runs = aggregates.runs();
        taskRuns = aggregates.taskRuns();
        commands = DefaultCommandGateway.builder().commandBus(bus).build();

        // five tasks that run side by side: "hold", whose commit the store holds, and the others
        DefaultUnitOfWork.startAndGet(null).execute(() -> RunTestAccess.start(runs, taskRuns, RUN, new Dag("wide",
                IntStream.range(0, OTHERS.size() + 1).mapToObj(i -> task(i == 0 ? "hold" : OTHERS.get(i - 1))).toList())));
        appends.clear();
    }

    @AfterEach
    void release() {
        holdMayCommit.countDown();
        groupMayCommit.countDown();
    }

    @Test
    void outcomesThatQueueBehindACommitAreCommittedTogetherEachWithItsOwnMetadata() throws Exception {
        holdAGroup.set(true);
        CompletableFuture<Object> hold = holdTheLane();
        List<CompletableFuture<Object>> others = queue(OTHERS);

        holdMayCommit.countDown();

        hold.get(10, TimeUnit.SECONDS);
        awaitLatch(groupCommitting);
        assertThat(others).as("answered before their append landed").noneMatch(CompletableFuture::isDone);
        groupMayCommit.countDown();
        awaitAll(others);
        assertThat(appends).hasSize(2);
        assertThat(ends(appends.get(0))).containsExactly("hold");
        assertThat(ends(appends.get(1))).containsExactlyInAnyOrderElementsOf(OTHERS);
        assertThat(appends.get(1)).anyMatch(event -> event.getPayload() instanceof RunFinished);
        // each event carries its own command's metadata, the task runs' and the run's alike
        for (EventMessage<?> event : appends.get(1)) {
            if (event.getPayload() instanceof TaskAttemptSucceeded succeeded) {
                assertThat(event.getMetaData().get("actor")).isEqualTo("worker-" + succeeded.taskRunId().taskId());
            }
            if (event.getPayload() instanceof TaskOutcomeRecorded recorded) {
                assertThat(event.getMetaData().get("actor")).isEqualTo("worker-" + recorded.taskId());
            }
        }
        assertThat(appends.get(1)).filteredOn(event -> event.getPayload() instanceof TaskOutcomeRecorded)
                .hasSize(OTHERS.size());
    }

    @Test
    void aGroupWithARefusedCommandCommitsTheOthersOneByOneAndRefusesOnlyThatOne() throws Exception {
        CompletableFuture<Object> hold = holdTheLane();
        CompletableFuture<Object> first = complete("t1");
        CompletableFuture<Object> ghost = complete("ghost"); // no such task run
        CompletableFuture<Object> second = complete("t2");
        awaitWaiting(3);

        holdMayCommit.countDown();

        hold.get(10, TimeUnit.SECONDS);
        first.get(10, TimeUnit.SECONDS);
        second.get(10, TimeUnit.SECONDS);
        assertThat(ghost).failsWithin(Duration.ofSeconds(10));
        assertThat(appends).extracting(GroupCommitCommandBusTest::ends)
                .containsExactlyInAnyOrder(List.of("hold"), List.of("t1"), List.of("t2"));
    }

    @Test
    void aGroupWhoseCommitFailsIsCommittedOneByOneAndLosesNothing() throws Exception {
        refuseAGroup.set(true);
        CompletableFuture<Object> hold = holdTheLane();
        List<CompletableFuture<Object>> others = queue(OTHERS);

        holdMayCommit.countDown();

        hold.get(10, TimeUnit.SECONDS);
        awaitAll(others);
        assertThat(refuseAGroup).isFalse(); // the group's append was tried, and refused
        assertThat(appends).hasSize(1 + OTHERS.size()).allSatisfy(append -> assertThat(ends(append)).hasSize(1));
        assertThat(appends.stream().flatMap(append -> ends(append).stream()))
                .containsExactlyInAnyOrder("hold", "t1", "t2", "t3", "t4");
    }

    /**
     * Sent inside another unit of work (a deadline's timeout, the orchestration's cancel), a command belongs to that
     * unit of work's commit: it does not join the group that waits in the run's lane, which another thread commits.
     */
    @Test
    void aCommandSentInsideAnotherUnitOfWorkIsPartOfItsCommitNotOfAGroup() throws Exception {
        CompletableFuture<Object> hold = holdTheLane();
        List<CompletableFuture<Object>> group = queue(List.of("t2", "t3"));
        java.util.concurrent.atomic.AtomicReference<Thread> insideThread = new java.util.concurrent.atomic.AtomicReference<>();
        CompletableFuture<Void> inside = CompletableFuture.runAsync(() -> {
            insideThread.set(Thread.currentThread());
            DefaultUnitOfWork.startAndGet(null).execute(() -> bus.dispatch(GenericCommandMessage.asCommandMessage(
                    new CompleteTaskAttempt(TaskRunId.of(RUN, "t1"), 1, Map.of()))));
        });
        // it waits (for the run's lock, which "hold" holds) before the lane is freed
        await().atMost(Duration.ofSeconds(10)).until(() -> insideThread.get() != null
                && (insideThread.get().getState() == Thread.State.WAITING
                || insideThread.get().getState() == Thread.State.TIMED_WAITING));

        holdMayCommit.countDown();

        hold.get(10, TimeUnit.SECONDS);
        inside.get(10, TimeUnit.SECONDS);
        awaitAll(group);
        assertThat(appends).extracting(append -> ends(append).stream().sorted().toList()).containsExactlyInAnyOrder(
                List.of("hold"), List.of("t1"), List.of("t2", "t3"));
    }

    /** Completes "hold", whose append the store holds: the run's lane stays busy until {@link #holdMayCommit}. */
    private CompletableFuture<Object> holdTheLane() {
        CompletableFuture<Object> hold = complete("hold");
        awaitLatch(holdCommitting);
        return hold;
    }

    /** Completes each task, and returns once all wait in the run's lane. */
    private List<CompletableFuture<Object>> queue(List<String> tasks) {
        List<CompletableFuture<Object>> completions = tasks.stream().map(this::complete).toList();
        awaitWaiting(tasks.size());
        return completions;
    }

    private static void awaitAll(List<CompletableFuture<Object>> completions) throws Exception {
        for (CompletableFuture<Object> completion : completions) {
            completion.get(10, TimeUnit.SECONDS);
        }
    }

    private CompletableFuture<Object> complete(String task) {
        return CompletableFuture.supplyAsync(() -> commands.sendAndWait(GenericCommandMessage.asCommandMessage(
                new CompleteTaskAttempt(TaskRunId.of(RUN, task), 1, Map.of())).andMetaData(Map.of("actor", "worker-" + task))));
    }

    private void awaitWaiting(int commands) {
        await().atMost(Duration.ofSeconds(10)).until(() -> bus.waiting(RUN.value()) == commands);
    }

    private static List<String> ends(List<? extends EventMessage<?>> events) {
        return events.stream().filter(event -> event.getPayload() instanceof TaskRunFinished)
                .map(event -> ((TaskRunFinished) event.getPayload()).taskRunId().taskId()).toList();
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Dag.Task task(String id) {
        return new Dag.Task(id, new Dag.Backend(BackendType.NOOP, Map.of()), List.of(), TriggerRule.ALL_SUCCESS,
                Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
    }
}
