package io.dagy.command.run;

import io.dagy.command.deployment.Deployment;
import io.dagy.command.deployment.DeploymentIds;
import io.dagy.command.task.TaskRun;
import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DeploymentEvents.DeploymentPublished;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunCommands.StartRun;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.run.RunId;
import org.axonframework.commandhandling.AnnotationCommandHandlerAdapter;
import org.axonframework.commandhandling.SimpleCommandBus;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.commandhandling.gateway.DefaultCommandGateway;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventsourcing.EventSourcingRepository;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.eventsourcing.eventstore.inmemory.InMemoryEventStorageEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A run's start reads its deployment but does not hold the deployment's lock through its own commit: starts of one
 * deployment proceed side by side (a hundred runs of one deployment started at once used to commit one at a time).
 */
class RunStarterTest {

    private static final DeploymentName ETL = new DeploymentName("etl");
    private static final RunId SLOW = new RunId("r-slow");

    private final CountDownLatch slowCommitMayFinish = new CountDownLatch(1);
    private final CountDownLatch slowCommitStarted = new CountDownLatch(1);
    private final InMemoryEventStorageEngine engine = new InMemoryEventStorageEngine() {
        @Override
        public void appendEvents(List<? extends EventMessage<?>> events) {
            if (events.stream().anyMatch(e -> e.getPayload() instanceof RunStarted started && started.runId().equals(SLOW))) {
                slowCommitStarted.countDown();
                try {
                    slowCommitMayFinish.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            super.appendEvents(events);
        }
    };
    private final CommandGateway commands = commands();

    private CommandGateway commands() {
        EmbeddedEventStore store = EmbeddedEventStore.builder().storageEngine(engine).build();
        DeploymentIds ids = new DeploymentIds(name -> false);
        store.publish(new GenericDomainEventMessage<>("Deployment", ids.aggregateId(OrgId.DEFAULT, ETL), 0,
                new DeploymentPublished(OrgId.DEFAULT, ETL, 1, new Dag(null, List.of(new Dag.Task("only",
                        new Dag.Backend(BackendType.NOOP, Map.of()), List.of(), TriggerRule.ALL_SUCCESS,
                        Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of()))),
                        DeploymentSettings.defaults())));
        SimpleCommandBus bus = SimpleCommandBus.builder().build();
        new AnnotationCommandHandlerAdapter<>(new RunStarter(
                EventSourcingRepository.builder(Deployment.class).eventStore(store).build(),
                EventSourcingRepository.builder(Run.class).eventStore(store).build(),
                EventSourcingRepository.builder(TaskRun.class).eventStore(store).build(), ids)).subscribe(bus);
        return DefaultCommandGateway.builder().commandBus(bus).build();
    }

    @AfterEach
    void release() {
        slowCommitMayFinish.countDown();
    }

    @Test
    void aStartWhoseCommitIsSlowDoesNotHoldUpAnotherStartOfTheSameDeployment() throws Exception {
        CompletableFuture<Object> slow = CompletableFuture.supplyAsync(() ->
                commands.sendAndWait(new StartRun(SLOW, OrgId.DEFAULT, ETL, Map.of())));
        assertThat(slowCommitStarted.await(10, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Object> other = CompletableFuture.supplyAsync(() ->
                commands.sendAndWait(new StartRun(new RunId("r-other"), OrgId.DEFAULT, ETL, Map.of())));

        assertThat(other.get(5, TimeUnit.SECONDS)).isEqualTo(new RunId("r-other"));
        assertThat(slow).isNotDone();
        slowCommitMayFinish.countDown();
        assertThat(slow.get(10, TimeUnit.SECONDS)).isEqualTo(SLOW);
    }

    @Test
    void aStartOfADeploymentThatDoesNotExistIsRefused() {
        assertThatThrownBy(() -> commands.sendAndWait(new StartRun(new RunId("r-none"), OrgId.DEFAULT,
                new DeploymentName("missing"), Map.of())))
                .hasMessageContaining("No deployment is named 'missing'");
        assertThat(engine.readEvents("r-none").asStream()).isEmpty();
    }
}
