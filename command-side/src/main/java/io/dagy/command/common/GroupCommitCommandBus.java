package io.dagy.command.common;

import org.axonframework.commandhandling.CommandCallback;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.commandhandling.CommandResultMessage;
import org.axonframework.commandhandling.SimpleCommandBus;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.messaging.MessageHandler;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

import static org.axonframework.commandhandling.GenericCommandResultMessage.asCommandResultMessage;

/**
 * Axon's simple command bus, with group commit: commands of one group (the outcomes of one run's task runs) that
 * arrive while another of the group is committing are handled together, once it is done, in one unit of work, and so
 * appended in one commit (decision 97). One group's commands committed one at a time, each holding the run's lock
 * through its append, which bounded a fan-out's completions to one commit's latency each.
 *
 * <p>Each command is still handled on its own: in a unit of work nested in the group's (Axon shares the aggregates
 * of nested units of work), with the bus's handler interceptors, so its events carry its own correlation data (its
 * organization and actor). Each caller gets its own command's result, and only once the group's commit has landed.
 * If any command of a group fails, or the group's commit does, nothing of the group is written, and each command is
 * then handled alone, as without grouping: one bad report costs the others a second handling, never their outcome.
 *
 * <p>A command sent inside another message's unit of work is never grouped (it is part of that unit of work's
 * commit). Grouping is per node; commands of one group on two nodes race for the aggregates as before.
 */
public class GroupCommitCommandBus extends SimpleCommandBus {

    /**
     * Commands of one commit at most. A run's outcome rarely takes more than five events, and a unit of work may
     * append 50; a group that exceeds them anyway is refused whole and its commands committed alone.
     */
    static final int MOST_PER_COMMIT = 8;

    private final Function<Object, String> groupOf;
    private final TransactionManager transactionManager;
    private final ConcurrentHashMap<String, Lane> lanes = new ConcurrentHashMap<>();

    /**
     * @param groupOf the group of a command's payload, or {@code null} for a command handled alone
     */
    public GroupCommitCommandBus(Builder builder, TransactionManager transactionManager,
                                 Function<Object, String> groupOf) {
        super(builder.transactionManager(transactionManager));
        this.transactionManager = transactionManager;
        this.groupOf = groupOf;
    }

    @Override
    protected <C, R> void handle(CommandMessage<C> command, MessageHandler<? super CommandMessage<?>> handler,
                                 CommandCallback<? super C, ? super R> callback) {
        String group = CurrentUnitOfWork.isStarted() ? null : groupOf.apply(command.getPayload());
        if (group == null) {
            super.handle(command, handler, callback);
            return;
        }
        Member member = new Member(command, handler);
        Lane lane = enter(group);
        try {
            lane.waiting.add(member);
            awaitOrCommit(lane, member);
        } finally {
            leave(group);
        }
        if (member.outcome == Member.ALONE) {
            super.handle(command, handler, callback);
        } else {
            @SuppressWarnings("unchecked")
            CommandResultMessage<R> result = (CommandResultMessage<R>) member.outcome;
            callback.onResult(command, result);
        }
    }

    /**
     * Returns once the member's command has an outcome: set by whoever commits its group, or by this thread, which
     * commits the oldest waiting commands whenever the lane is free. A member whose group is done returns at once,
     * without waiting for the lane. Interrupts are kept for later: the command may be committing, and the caller must
     * learn its outcome.
     */
    private void awaitOrCommit(Lane lane, Member member) {
        boolean interrupted = false;
        while (true) {
            synchronized (lane) {
                while (member.outcome == null && lane.committing) {
                    try {
                        lane.wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (member.outcome != null) {
                    break;
                }
                lane.committing = true;
            }
            try {
                commitNext(lane);
            } finally {
                synchronized (lane) {
                    lane.committing = false;
                    lane.notifyAll();
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** How many commands of a group wait for their commit on this node (for tests). */
    int waiting(String group) {
        Lane lane = lanes.get(group);
        return lane == null ? 0 : lane.waiting.size();
    }

    /** Commits the oldest commands waiting in the lane; called by the one thread committing for it. */
    private void commitNext(Lane lane) {
        List<Member> batch = new ArrayList<>();
        for (Member next; batch.size() < MOST_PER_COMMIT && (next = lane.waiting.poll()) != null; ) {
            batch.add(next);
        }
        if (batch.isEmpty()) {
            return; // every waiting command was taken by the thread before
        }
        if (batch.size() == 1) {
            Member only = batch.get(0);
            try {
                super.handle(only.command, only.handler, (command, result) -> only.result = result);
            } catch (RuntimeException | Error unexpected) {
                only.result = asCommandResultMessage(unexpected); // its caller learns of it; the lane goes on
            }
            only.outcome = only.result;
            return;
        }
        UnitOfWork<?> group = DefaultUnitOfWork.startAndGet(batch.get(0).command);
        try {
            group.attachTransaction(transactionManager);
            for (Member member : batch) {
                super.handle(member.command, member.handler, (command, result) -> member.result = result);
            }
            if (batch.stream().anyMatch(member -> member.result == null || member.result.isExceptional())) {
                group.rollback();
            } else {
                group.commit();
                batch.forEach(member -> member.outcome = member.result);
                return;
            }
        } catch (RuntimeException | Error refused) {
            if (group.isActive()) {
                group.rollback(refused);
            }
        }
        batch.forEach(member -> member.outcome = Member.ALONE);
    }

    private Lane enter(String group) {
        return lanes.compute(group, (key, lane) -> {
            Lane entered = lane == null ? new Lane() : lane;
            entered.users++;
            return entered;
        });
    }

    private void leave(String group) {
        lanes.computeIfPresent(group, (key, lane) -> --lane.users == 0 ? null : lane);
    }

    /** A group's commands waiting to commit, and whether a thread is committing some (guarded by the lane). */
    private static final class Lane {
        final Queue<Member> waiting = new ConcurrentLinkedQueue<>();
        boolean committing;
        /** Callers in the lane; changed only inside {@link ConcurrentHashMap#compute}. */
        int users;
    }

    /** One caller's command and, once its group is done, its outcome. */
    private static final class Member {
        /** The outcome of a command its group could not commit: the caller handles it alone. */
        static final Object ALONE = new Object();

        final CommandMessage<?> command;
        final MessageHandler<? super CommandMessage<?>> handler;
        /** The result of its handling in the group, not yet committed; written and read by the committing thread. */
        CommandResultMessage<?> result;
        /** Its result once committed, or {@link #ALONE}; set before the committing thread frees the lane. */
        volatile Object outcome;

        Member(CommandMessage<?> command, MessageHandler<? super CommandMessage<?>> handler) {
            this.command = command;
            this.handler = handler;
        }
    }
}
