package io.dagy.command.task;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.common.DagyRuleViolation;
import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.CompleteTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.DispatchNextAttempt;
import io.dagy.contracts.run.TaskRunCommands.FailTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunCommands.TimeOutTaskAttempt;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptFailed;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptStarted;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptSucceeded;
import io.dagy.contracts.run.TaskRunEvents.TaskQueued;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.command.run.Run;
import io.dagy.command.run.TaskOutcomes;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.run.RunEvents.TasksReady;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventsourcing.EventSourcingRepository;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.eventsourcing.eventstore.inmemory.InMemoryEventStorageEngine;
import org.axonframework.modelling.command.Repository;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TaskRunTest {

    private static final TaskRunId ID = TaskRunId.of(new RunId("r-1"), "extract");

    private AggregateTestFixture<TaskRun> fixture;

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(TaskRun.class);
        fixture.registerCommandTargetResolver(new DagyCommandTargetResolver(new io.dagy.command.deployment.DeploymentIds(name -> false)));
        // reports that end a task run are handled with its run, which records the outcome in the same unit of work
        fixture.registerAnnotatedCommandHandler(new TaskOutcomes(fixture.getRepository(), runOf(spec(1, List.of("*")))));
    }

    /** The run of {@link #ID}, started in an event store of its own, with {@code task} queued. */
    static Repository<Run> runOf(Dag.Task task) {
        EmbeddedEventStore store = EmbeddedEventStore.builder().storageEngine(new InMemoryEventStorageEngine()).build();
        Dag dag = new Dag("one", List.of(task));
        store.publish(
                new GenericDomainEventMessage<>("Run", ID.runId().value(), 0, new RunStarted(ID.runId(), OrgId.DEFAULT,
                        new DeploymentName("etl"), 1, dag, Map.of(), DeploymentSettings.defaults())),
                new GenericDomainEventMessage<>("Run", ID.runId().value(), 1,
                        new TasksReady(ID.runId(), List.of(task), Map.of(), 0, true)));
        return EventSourcingRepository.builder(Run.class).eventStore(store).build();
    }

    private static Dag.Task spec(int maxAttempts, List<String> retryOn) {
        return new Dag.Task("extract", new Dag.Backend(BackendType.NOOP, Map.of()), List.of(), TriggerRule.ALL_SUCCESS,
                new Dag.RetryPolicy(maxAttempts, Duration.ofSeconds(1), 2.0, Duration.ofSeconds(3), false, retryOn),
                new Dag.Timeouts(null, null, null), Map.of());
    }

    private static TaskAttemptDispatched dispatched(int attempt, Dag.Task spec) {
        return new TaskAttemptDispatched(ID, attempt, ID.dispatchId(attempt), spec, Map.of());
    }

    @Test
    void queueingDispatchesTheFirstAttemptWithADeterministicDispatchId() {
        Dag.Task spec = spec(1, List.of("*"));
        fixture.givenNoPriorActivity()
                .when(new QueueTask(ID, spec, Map.of(), 0))
                .expectEvents(new TaskQueued(ID, new RunId("r-1"), "extract", 0), dispatched(1, spec));
        assertThat(ID.dispatchId(2)).isEqualTo("r-1/extract/2");
    }

    /** Queueing a task run that exists (a redelivered fan-out) changes nothing: no failure for the sender to decode. */
    @Test
    void queueingATaskRunAgainChangesNothing() {
        Dag.Task spec = spec(1, List.of("*"));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec))
                .when(new QueueTask(ID, spec, Map.of(), 0))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void aCompletedAttemptFinishesTheTaskRun() {
        Dag.Task spec = spec(1, List.of("*"));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec))
                .when(new CompleteTaskAttempt(ID, 1, Map.of("rows", 3)))
                .expectEvents(new TaskAttemptStarted(ID, 1), new TaskAttemptSucceeded(ID, 1, Map.of("rows", 3)),
                        new TaskRunFinished(ID, ID.runId(), "extract", TaskStatus.SUCCEEDED, 1, true));
    }

    @Test
    void aRepeatedCompletionReportChangesNothing() {
        Dag.Task spec = spec(1, List.of("*"));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec),
                        new TaskAttemptSucceeded(ID, 1, Map.of()),
                        new TaskRunFinished(ID, ID.runId(), "extract", TaskStatus.SUCCEEDED, 1))
                .when(new CompleteTaskAttempt(ID, 1, Map.of()))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void failuresRetryWithExponentialBackoffUntilAttemptsRunOut() {
        Dag.Task spec = spec(3, List.of("*"));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec))
                .when(new FailTaskAttempt(ID, 1, "exit_1", "boom"))
                .expectEvents(new TaskAttemptStarted(ID, 1), new TaskAttemptFailed(ID, 1, "exit_1", "boom", Duration.ofSeconds(1)));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec),
                        new TaskAttemptFailed(ID, 1, "exit_1", "boom", Duration.ofSeconds(1)))
                .when(new DispatchNextAttempt(ID, 2))
                .expectEvents(dispatched(2, spec));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec),
                        new TaskAttemptFailed(ID, 1, "exit_1", "boom", Duration.ofSeconds(1)), dispatched(2, spec))
                .when(new FailTaskAttempt(ID, 2, "exit_1", "boom"))
                .expectEvents(new TaskAttemptStarted(ID, 2), new TaskAttemptFailed(ID, 2, "exit_1", "boom", Duration.ofSeconds(2)));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec),
                        new TaskAttemptFailed(ID, 1, "exit_1", "boom", Duration.ofSeconds(1)), dispatched(2, spec),
                        new TaskAttemptFailed(ID, 2, "exit_1", "boom", Duration.ofSeconds(2)), dispatched(3, spec))
                .when(new FailTaskAttempt(ID, 3, "exit_1", "boom"))
                .expectEvents(new TaskAttemptStarted(ID, 3), new TaskAttemptFailed(ID, 3, "exit_1", "boom", null),
                        new TaskRunFinished(ID, ID.runId(), "extract", TaskStatus.FAILED, 3, true));
    }

    @Test
    void anErrorKindTheRetryPolicyDoesNotListIsFinal() {
        Dag.Task spec = spec(5, List.of("timeout"));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec))
                .when(new FailTaskAttempt(ID, 1, "exit_2", "bad input"))
                .expectEvents(new TaskAttemptStarted(ID, 1), new TaskAttemptFailed(ID, 1, "exit_2", "bad input", null),
                        new TaskRunFinished(ID, ID.runId(), "extract", TaskStatus.FAILED, 1, true));
    }

    @Test
    void anExpiredTimeoutWithoutRetriesEndsTimedOut() {
        Dag.Task spec = spec(1, List.of("*"));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec))
                .when(new TimeOutTaskAttempt(ID, 1, "start_to_close"))
                .expectEvents(new TaskAttemptFailed(ID, 1, "timeout", "start_to_close timeout of extract expired", null),
                        new TaskRunFinished(ID, ID.runId(), "extract", TaskStatus.TIMED_OUT, 1, true));
    }

    @Test
    void aLateReportForAnEarlierAttemptChangesNothingAndAFutureAttemptIsAnError() {
        Dag.Task spec = spec(3, List.of("*"));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec),
                        new TaskAttemptFailed(ID, 1, "exit_1", "boom", Duration.ofSeconds(1)), dispatched(2, spec))
                .when(new CompleteTaskAttempt(ID, 1, Map.of()))
                .expectNoEvents();
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec))
                .when(new CompleteTaskAttempt(ID, 5, Map.of()))
                .expectException(DagyRuleViolation.class);
    }

    @Test
    void cancellingEndsTheTaskRunOnceAndOnlyOnce() {
        Dag.Task spec = spec(3, List.of("*"));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec))
                .when(new io.dagy.contracts.run.TaskRunCommands.CancelTaskRun(ID))
                .expectEvents(new TaskRunFinished(ID, ID.runId(), "extract", TaskStatus.CANCELLED, 1, true));
        fixture.given(new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec),
                        new TaskRunFinished(ID, ID.runId(), "extract", TaskStatus.CANCELLED, 1))
                .when(new io.dagy.contracts.run.TaskRunCommands.CancelTaskRun(ID))
                .expectNoEvents();
    }

    @Test
    void aRerunRequeuesAFailedTaskRunAsTheNextAttemptWithAFreshRetryBudgetOnce() {
        Dag.Task spec = spec(1, List.of("*"));
        var failed = new Object[] {new TaskQueued(ID, ID.runId(), "extract", 0), dispatched(1, spec),
                new TaskAttemptFailed(ID, 1, "exit_1", "boom", null),
                new TaskRunFinished(ID, ID.runId(), "extract", TaskStatus.FAILED, 1)};
        fixture.given(failed)
                .when(new QueueTask(ID, spec, Map.of(), 1))
                .expectEvents(new TaskQueued(ID, ID.runId(), "extract", 1), dispatched(2, spec));
        fixture.given(failed)
                .andGiven(new TaskQueued(ID, ID.runId(), "extract", 1), dispatched(2, spec))
                .when(new QueueTask(ID, spec, Map.of(), 1))
                .expectNoEvents();
        fixture.given(failed)
                .andGiven(new TaskQueued(ID, ID.runId(), "extract", 1), dispatched(2, spec))
                .when(new FailTaskAttempt(ID, 2, "exit_1", "boom"))
                .expectEvents(new TaskAttemptStarted(ID, 2), new TaskAttemptFailed(ID, 2, "exit_1", "boom", null),
                        new TaskRunFinished(ID, ID.runId(), "extract", TaskStatus.FAILED, 2, true));
    }

    @Test
    void retryDelaysAreCappedAndJitterStaysWithinTheCap() {
        var noJitter = new Dag.RetryPolicy(10, Duration.ofSeconds(1), 2.0, Duration.ofSeconds(5), false, List.of("*"));
        var jitter = new Dag.RetryPolicy(10, Duration.ofSeconds(1), 2.0, Duration.ofSeconds(5), true, List.of("*"));

        assertThat(TaskRun.retryDelay(noJitter, 1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(TaskRun.retryDelay(noJitter, 3)).isEqualTo(Duration.ofSeconds(4));
        assertThat(TaskRun.retryDelay(noJitter, 8)).isEqualTo(Duration.ofSeconds(5));
        for (int i = 0; i < 100; i++) {
            assertThat(TaskRun.retryDelay(jitter, 4)).isBetween(Duration.ZERO, Duration.ofSeconds(5));
        }
    }
}
