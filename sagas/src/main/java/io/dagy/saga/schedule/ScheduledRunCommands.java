package io.dagy.saga.schedule;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.identity.Actor;
import io.dagy.contracts.identity.ActorKind;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunCommands.StartRun;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFired;
import org.axonframework.commandhandling.CommandExecutionException;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.modelling.command.AggregateStreamCreationException;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Sends the commands of scheduled runs, each on a thread of its own and waiting for its result (decision 14: sent from
 * the saga's thread, a refused run start would fail the saga's unit of work instead of the command). A run start
 * carries the schedule as its actor ({@code schedule:<deployment>/<id>}) and the schedule's organization.
 */
public class ScheduledRunCommands implements AutoCloseable {

    /** How a run start went. */
    public enum Started { STARTED, ALREADY_STARTED }

    /** The run could not start (its deployment is gone, its params are refused): the error's code and message. */
    public static final class Refused extends RuntimeException {
        private final BusinessError error;

        Refused(BusinessError error) {
            super(error.code().code() + ": " + error.message());
            this.error = error;
        }

        public BusinessError error() {
            return error;
        }
    }

    private final CommandGateway commands;
    private final ExecutorService senders = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "scheduled-run-command");
        thread.setDaemon(true);
        return thread;
    });

    private final RunAdmission admission;

    public ScheduledRunCommands(CommandGateway commands) {
        this(commands, RunAdmission.OPEN);
    }

    /** With {@code admission}: asked before each start, like the API's start (the plan's limits). */
    public ScheduledRunCommands(CommandGateway commands, RunAdmission admission) {
        this.commands = commands;
        this.admission = admission;
    }

    /**
     * Starts the fire's run; a run id that exists already (a redelivered fire) is not an error. A run the plan does
     * not admit, or whose start is refused, is {@link Refused}.
     */
    public Started start(ScheduleFired fire) {
        var schedule = fire.scheduleId();
        CommandMessage<?> command = GenericCommandMessage.asCommandMessage(new StartRun(fire.runId(), schedule.org(),
                schedule.deployment(), fire.params())).andMetaData(Map.of(
                MessageKeys.ORG_ID, schedule.org().value(),
                MessageKeys.ACTOR_KIND, ActorKind.SCHEDULE.code(),
                MessageKeys.ACTOR_ID, schedule.actorId()));
        Runnable giveBack;
        try {
            giveBack = admission.admit(schedule.org(), fire.runId());
        } catch (RunAdmission.Refusal refusal) {
            throw new Refused(refusal.error());
        }
        try {
            onOwnThread(() -> commands.sendAndWait(command));
            return Started.STARTED;
        } catch (RuntimeException e) {
            if (causedBy(e, AggregateStreamCreationException.class)) {
                return Started.ALREADY_STARTED;
            }
            giveBack.run();
            BusinessError refused = businessError(e);
            if (refused != null) {
                throw new Refused(refused);
            }
            throw e;
        }
    }

    /** Sends a command as the system, for the schedule's organization; business refusals are returned, not thrown. */
    public BusinessError send(Object command, OrgId org) {
        CommandMessage<?> message = GenericCommandMessage.asCommandMessage(command).andMetaData(Map.of(
                MessageKeys.ORG_ID, org.value(),
                MessageKeys.ACTOR_KIND, Actor.SYSTEM.kind().code(),
                MessageKeys.ACTOR_ID, Actor.SYSTEM.id()));
        try {
            onOwnThread(() -> commands.sendAndWait(message));
            return null;
        } catch (RuntimeException e) {
            BusinessError refused = businessError(e);
            if (refused != null) {
                return refused;
            }
            throw e;
        }
    }

    private void onOwnThread(Supplier<Object> send) {
        try {
            CompletableFuture.supplyAsync(send, senders).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    private static BusinessError businessError(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof CommandExecutionException execution
                    && execution.getDetails().orElse(null) instanceof BusinessError business) {
                return business;
            }
        }
        return null;
    }

    private static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        senders.shutdown();
    }
}
