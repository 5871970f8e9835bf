package io.dagy.command.run;

import io.dagy.command.task.TaskRun;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.deployment.DeploymentIds;
import org.axonframework.commandhandling.AnnotationCommandHandlerAdapter;
import org.axonframework.commandhandling.CommandBus;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventsourcing.EventSourcingRepository;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.eventsourcing.eventstore.inmemory.InMemoryEventStorageEngine;
import org.axonframework.modelling.command.AggregateAnnotationCommandHandler;
import org.axonframework.modelling.command.Repository;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs and task runs for tests, also outside this package: their repositories on Axon's in-memory store with the
 * command side's handlers, and a run started as {@link RunStarter} does.
 */
public final class RunTestAccess {

    private RunTestAccess() {
    }

    /** The repositories of runs and task runs on one store. */
    public record Aggregates(Repository<Run> runs, Repository<TaskRun> taskRuns) {
    }

    /**
     * Runs and task runs on Axon's in-memory store, each append shown to {@code beforeAppend} before it is stored (it
     * may hold or refuse it), their handlers and {@link TaskOutcomes} subscribed to {@code bus}.
     */
    public static Aggregates onInMemoryStore(Consumer<List<? extends EventMessage<?>>> beforeAppend, CommandBus bus) {
        InMemoryEventStorageEngine engine = new InMemoryEventStorageEngine() {
            @Override
            public void appendEvents(List<? extends EventMessage<?>> events) {
                beforeAppend.accept(events);
                super.appendEvents(events);
            }
        };
        EmbeddedEventStore store = EmbeddedEventStore.builder().storageEngine(engine).build();
        Repository<Run> runs = EventSourcingRepository.builder(Run.class).eventStore(store).build();
        Repository<TaskRun> taskRuns = EventSourcingRepository.builder(TaskRun.class).eventStore(store).build();
        var targets = new DagyCommandTargetResolver(new DeploymentIds(name -> false));
        AggregateAnnotationCommandHandler.<TaskRun>builder().aggregateType(TaskRun.class).repository(taskRuns)
                .commandTargetResolver(targets).build().subscribe(bus);
        AggregateAnnotationCommandHandler.<Run>builder().aggregateType(Run.class).repository(runs)
                .commandTargetResolver(targets).build().subscribe(bus);
        new AnnotationCommandHandlerAdapter<>(new TaskOutcomes(taskRuns, runs)).subscribe(bus);
        return new Aggregates(runs, taskRuns);
    }

    /** Call inside a unit of work. */
    public static void start(Repository<Run> runs, Repository<TaskRun> taskRuns, RunId runId, Dag dag) {
        try {
            List<QueueTask> roots = runs.newInstance(() -> new Run(runId, OrgId.DEFAULT, new DeploymentName("etl"), 1,
                    dag, Map.of(), DeploymentSettings.defaults())).invoke(Run::takeQueuedAtStart);
            for (QueueTask root : roots) {
                taskRuns.newInstance(() -> new TaskRun(root));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
