package io.dagy.command.task;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.deployment.DeploymentIds;
import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunCommands.QueueTasks;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import io.dagy.contracts.run.TaskRunEvents.TaskQueued;
import io.dagy.contracts.run.TaskRunId;
import org.axonframework.commandhandling.AnnotationCommandHandlerAdapter;
import org.axonframework.commandhandling.SimpleCommandBus;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.commandhandling.gateway.DefaultCommandGateway;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventsourcing.EventSourcingRepository;
import org.axonframework.eventsourcing.eventstore.DomainEventStream;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.eventsourcing.eventstore.inmemory.InMemoryEventStorageEngine;
import org.axonframework.modelling.command.AggregateAnnotationCommandHandler;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fan-out's new tasks are queued in batches: one append per batch, and no read of task runs that cannot exist yet.
 * (That the DynamoDB store refuses a batch whole when one of its task runs exists is tested end to end in
 * {@code RunExecutionTest}; the orchestration's fallback in {@code RunOrchestrationTest}.)
 */
class TaskQueueingTest {

    private static final RunId RUN = new RunId("r-batch");

    private final List<List<EventMessage<?>>> appends = new CopyOnWriteArrayList<>();
    private final List<String> reads = new CopyOnWriteArrayList<>();
    private CommandGateway commands;

    @BeforeEach
    void setUp() {
        InMemoryEventStorageEngine engine = new InMemoryEventStorageEngine() {
            @Override
            public void appendEvents(List<? extends EventMessage<?>> batch) {
                appends.add(List.copyOf(batch));
                super.appendEvents(batch);
            }

            @Override
            public DomainEventStream readEvents(String aggregateIdentifier, long firstSequenceNumber) {
                reads.add(aggregateIdentifier);
                return super.readEvents(aggregateIdentifier, firstSequenceNumber);
            }
        };
        EmbeddedEventStore store = EmbeddedEventStore.builder().storageEngine(engine).build();
        var taskRuns = EventSourcingRepository.builder(TaskRun.class).eventStore(store).build();
        SimpleCommandBus bus = SimpleCommandBus.builder().build();
        AggregateAnnotationCommandHandler.<TaskRun>builder().aggregateType(TaskRun.class).repository(taskRuns)
                .commandTargetResolver(new DagyCommandTargetResolver(new DeploymentIds(name -> false))).build()
                .subscribe(bus);
        new AnnotationCommandHandlerAdapter<>(new TaskQueueing(taskRuns)).subscribe(bus);
        commands = DefaultCommandGateway.builder().commandBus(bus).build();
    }

    @Test
    void aBatchIsOneAppendAndReadsNothing() {
        List<Dag.Task> tasks = IntStream.range(0, 16).mapToObj(i -> task("t" + i, 10)).toList();

        commands.sendAndWait(new QueueTasks(RUN, tasks, Map.of("day", "2026-11-30")));

        assertThat(reads).isEmpty();
        assertThat(appends).hasSize(1);
        assertThat(appends.get(0)).hasSize(32);
        assertThat(appends.get(0).stream().map(EventMessage::getPayload).filter(TaskQueued.class::isInstance)
                .map(event -> ((TaskQueued) event).taskRunId())).containsExactlyElementsOf(
                tasks.stream().map(task -> TaskRunId.of(RUN, task.id())).toList());
        assertThat(appends.get(0).stream().map(EventMessage::getPayload).filter(TaskAttemptDispatched.class::isInstance)
                .map(event -> (TaskAttemptDispatched) event)).allSatisfy(dispatched -> {
            assertThat(dispatched.attempt()).isEqualTo(1);
            assertThat(dispatched.params()).containsEntry("day", "2026-11-30");
        });
    }

    @Test
    void aFanOutIsCutIntoBatchesOfSixteenTasks() {
        List<Dag.Task> tasks = IntStream.range(0, 40).mapToObj(i -> task("t" + i, 10)).toList();

        List<QueueTasks> batches = QueueTasks.batches(RUN, tasks, Map.of());

        assertThat(batches).extracting(batch -> batch.tasks().size()).containsExactly(16, 16, 8);
        assertThat(batches.stream().flatMap(batch -> batch.tasks().stream())).containsExactlyElementsOf(tasks);
    }

    @Test
    void largeSpecsMakeSmallerBatchesAndATaskTooLargeForOneIsABatchOfItsOwn() {
        List<Dag.Task> tasks = List.of(task("a", 300_000), task("b", 300_000), task("c", 1_200_000), task("d", 10));

        List<QueueTasks> batches = QueueTasks.batches(RUN, tasks, Map.of());

        assertThat(batches).extracting(batch -> batch.tasks().stream().map(Dag.Task::id).toList())
                .containsExactly(List.of("a"), List.of("b"), List.of("c"), List.of("d"));
        assertThat(batches).allSatisfy(batch -> assertThat(batch.tasks().size() == 1
                || QueueTasks.characters(batch.tasks(), batch.params()) <= QueueTasks.MAX_CHARACTERS).isTrue());
    }

    @Test
    void aBatchTaskByTaskIsItsTasksFirstExecution() {
        List<Dag.Task> tasks = List.of(task("a", 10), task("b", 10));

        List<QueueTask> each = new QueueTasks(RUN, tasks, Map.of("k", 1)).each();

        assertThat(each).containsExactly(new QueueTask(TaskRunId.of(RUN, "a"), tasks.get(0), Map.of("k", 1), 0),
                new QueueTask(TaskRunId.of(RUN, "b"), tasks.get(1), Map.of("k", 1), 0));
    }

    /** A noop task whose spec carries a parameter of about {@code characters} characters. */
    private static Dag.Task task(String id, int characters) {
        return new Dag.Task(id, new Dag.Backend(BackendType.NOOP, Map.of()), List.of(), TriggerRule.ALL_SUCCESS,
                Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of("blob", "x".repeat(characters)));
    }
}
