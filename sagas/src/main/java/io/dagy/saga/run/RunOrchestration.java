package io.dagy.saga.run;

import io.dagy.contracts.identity.Actor;
import io.dagy.contracts.identity.MessageKeys;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.messaging.MetaData;
import java.util.HashMap;
import java.util.Map;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.run.RunCommands.RecordTaskOutcome;
import io.dagy.contracts.run.RunEvents.RunCancelling;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.TaskRunCommands.CancelTaskRun;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import io.dagy.contracts.run.TaskRunCommands.QueueTasks;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import io.dagy.contracts.run.TaskRunId;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.config.ProcessingGroup;
import io.dagy.eventstore.processing.SkipWhen;
import org.axonframework.eventhandling.EventHandler;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Connects a run and its task runs where they did not meet in one unit of work ({@code TaskOutcomes}): queues the
 * tasks of a large fan-out or a rerun, cancels a cancelled run's task runs, and reports to its run the end of a task
 * run stored before outcomes were recorded with it. Both commands are idempotent (a task run exists once; an outcome is recorded once), so redelivery is safe.
 * Events of one run are handled in order, on one segment ({@link RunSequencingPolicy}). A handler that cannot send its
 * commands fails, so the event is handled again (never skipped).
 */
@ProcessingGroup(RunOrchestration.PROCESSING_GROUP)
public class RunOrchestration implements AutoCloseable {

    public static final String PROCESSING_GROUP = "run-orchestration";

    /** Commands in flight at once for one event (a fan-out may make thousands of tasks ready together). */
    static final int LANES = 16;

    /**
     * Commands go out from these threads, not the handler's: Axon would run a command sent from an event handler as a
     * nested unit of work whose events are appended only when the handler's unit of work commits, so a refused append
     * (a task run that exists) would fail this processor's batch instead of the command. The pool is not bounded, so
     * one run's fan-out never queues another run's commands behind it; each event is bounded by its lanes instead.
     */
    private final ExecutorService senders = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "run-orchestration-command");
        thread.setDaemon(true);
        return thread;
    });

    /**
     * Sends one command per element over at most {@link #LANES} lanes, each sending its share one after another, and
     * returns when all succeeded; otherwise throws the first failure (a lane stops at its first failure).
     */
    private <T> void sendAll(Collection<T> elements, Consumer<T> send) {
        List<T> all = List.copyOf(elements);
        int lanes = Math.min(LANES, all.size());
        CompletableFuture<?>[] sent = IntStream.range(0, lanes)
                .mapToObj(lane -> CompletableFuture.runAsync(() -> {
                    for (int i = lane; i < all.size(); i += lanes) {
                        send.accept(all.get(i));
                    }
                }, senders))
                .toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(sent).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    @Override
    public void close() {
        senders.shutdown();
    }

    /**
     * The command as the system sends it for the run's organization. The sending threads have no unit of work that
     * would pass the event's metadata on, so the organization is carried over here.
     */
    private static CommandMessage<?> onBehalfOf(MetaData event, Object command) {
        Map<String, Object> metaData = new HashMap<>();
        if (event.containsKey(MessageKeys.ORG_ID)) {
            metaData.put(MessageKeys.ORG_ID, event.get(MessageKeys.ORG_ID));
        }
        metaData.put(MessageKeys.ACTOR_KIND, Actor.SYSTEM.kind().code());
        metaData.put(MessageKeys.ACTOR_ID, Actor.SYSTEM.id());
        return GenericCommandMessage.asCommandMessage(command).andMetaData(metaData);
    }

    /** Tasks queued with the decision that made them ready are not this handler's: no batch, no token write. */
    @EventHandler
    @SkipWhen("queued")
    void on(TasksReady event, MetaData metaData, CommandGateway commands) {
        if (event.rerun() > 0) {
            // a task that ran before is run again by a rerun: each task run is loaded, or created if it never ran
            sendAll(event.tasks(), task -> commands.sendAndWait(onBehalfOf(metaData,
                    new QueueTask(TaskRunId.of(event.runId(), task.id()), task, event.params(), event.rerun()))));
            return;
        }
        // new tasks: created in batches, one commit each; a batch refused because this event was handled before (in
        // part) is queued task by task, which finds the task runs that exist, so a redelivery changes nothing
        sendAll(QueueTasks.batches(event.runId(), event.tasks(), event.params()), batch -> {
            try {
                commands.sendAndWait(onBehalfOf(metaData, batch));
            } catch (RuntimeException refused) {
                batch.each().forEach(task -> commands.sendAndWait(onBehalfOf(metaData, task)));
            }
        });
    }

    @EventHandler
    void on(RunCancelling event, MetaData metaData, CommandGateway commands) {
        sendAll(event.activeTasks(), taskId -> commands.sendAndWait(
                onBehalfOf(metaData, new CancelTaskRun(TaskRunId.of(event.runId(), taskId)))));
    }

    /** An end the run recorded in the same commit is not this handler's. */
    @EventHandler
    @SkipWhen("recordedByRun")
    void on(TaskRunFinished event, MetaData metaData, CommandGateway commands) {
        sendAll(List.of(event), finished -> commands.sendAndWait(onBehalfOf(metaData,
                new RecordTaskOutcome(finished.runId(), finished.taskId(), finished.outcome()))));
    }
}
