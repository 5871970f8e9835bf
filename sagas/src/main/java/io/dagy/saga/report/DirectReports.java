package io.dagy.saga.report;

import io.dagy.contracts.run.TaskRunCommands.CompleteTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.FailTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.RecordHeartbeat;
import io.dagy.contracts.run.TaskRunCommands.StartTaskAttempt;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.ContextCarrier;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Reports of the backends that run on this node (noop, local processes, external workers through this node's API)
 * go straight to the task run as commands, not through the events queue: a report is durable once its command has
 * committed, so a node that dies loses no report sitting in a queue's memory, and a worker's {@code 202} means its
 * outcome is recorded. Reports from AWS backends still arrive through the queue ({@link ReportConsumer}).
 *
 * <p>A report made while a unit of work is open (the saga dispatching to the noop backend) is sent from a thread of
 * its own, because a command sent inside another message's unit of work would only be appended when that one commits.
 * Commands on task runs are idempotent, so a report sent twice changes nothing.
 */
public final class DirectReports implements BackendReports, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DirectReports.class);
    private static final int SENDERS = 8;
    private static final int ATTEMPTS = 5;
    /** How long a start waits for its attempt's first report (decision 89). */
    static final Duration START_WAIT = Duration.ofMillis(500);

    private final CommandGateway commands;
    private final ContextCarrier carrier;
    private final ExecutorService senders = new ThreadPoolExecutor(SENDERS, SENDERS, 60, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), runnable -> {
                Thread thread = new Thread(runnable, "backend-report");
                thread.setDaemon(true);
                return thread;
            });

    /** Starts waiting for their attempt's first report, by dispatch id (decision 89). */
    private final Map<String, ScheduledFuture<?>> pendingStarts = new ConcurrentHashMap<>();
    private final ScheduledExecutorService startTimer = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "backend-report-start");
        thread.setDaemon(true);
        return thread;
    });

    public DirectReports(CommandGateway commands) {
        this(commands, ContextCarrier.NONE);
    }

    /** Reports sent from the sender threads keep the reporting thread's trace and logging context. */
    public DirectReports(CommandGateway commands, ContextCarrier carrier) {
        this.commands = commands;
        this.carrier = carrier;
    }

    @Override
    public void started(String dispatchId) {
        send(new StartTaskAttempt(taskRun(dispatchId), attempt(dispatchId)));
    }

    @Override
    public void startedInBackground(String dispatchId) {
        Object command = new StartTaskAttempt(taskRun(dispatchId), attempt(dispatchId));
        senders.execute(carrier.carry(() -> sendWithRetries(command)));
    }

    /**
     * Records the start once {@link #START_WAIT} has passed, unless a report of the attempt comes first: its end records
     * the start with it (one commit for a short task instead of two), a heartbeat records it just before (decision 89).
     */
    @Override
    public void startedUnlessReported(String dispatchId) {
        Runnable record = () -> {
            if (pendingStarts.remove(dispatchId) != null) {
                startedInBackground(dispatchId);
            }
        };
        try {
            pendingStarts.put(dispatchId, startTimer.schedule(record, START_WAIT.toMillis(), TimeUnit.MILLISECONDS));
        } catch (RejectedExecutionException closing) {
            startedInBackground(dispatchId);
        }
    }

    /** The start still waiting for this attempt's first report, taken off the timer: whether there was one. */
    private boolean takePendingStart(String dispatchId) {
        ScheduledFuture<?> pending = pendingStarts.remove(dispatchId);
        if (pending != null) {
            pending.cancel(false);
        }
        return pending != null;
    }

    @Override
    public void heartbeat(String dispatchId) {
        if (takePendingStart(dispatchId)) {
            send(new StartTaskAttempt(taskRun(dispatchId), attempt(dispatchId)));
        }
        send(new RecordHeartbeat(taskRun(dispatchId), attempt(dispatchId)));
    }

    @Override
    public void succeeded(String dispatchId, Map<String, Object> output) {
        takePendingStart(dispatchId); // the completion records the start
        send(new CompleteTaskAttempt(taskRun(dispatchId), attempt(dispatchId), output == null ? Map.of() : output));
    }

    @Override
    public void failed(String dispatchId, String errorKind, String message) {
        takePendingStart(dispatchId); // the failure records the start
        send(new FailTaskAttempt(taskRun(dispatchId), attempt(dispatchId), errorKind, message == null ? "" : message));
    }

    private void send(Object command) {
        if (CurrentUnitOfWork.isStarted()) {
            senders.execute(carrier.carry(() -> sendWithRetries(command)));
        } else {
            commands.sendAndWait(command);
        }
    }

    /** Off the caller's thread nobody could retry it: retry a few times, then leave it to the attempt's timeout. */
    private void sendWithRetries(Object command) {
        for (int attempt = 1; ; attempt++) {
            try {
                commands.sendAndWait(command);
                return;
            } catch (RuntimeException e) {
                if (attempt == ATTEMPTS) {
                    log.warn("Report {} could not be recorded after {} attempts; the attempt's timeout settles it",
                            command, ATTEMPTS, e);
                    return;
                }
                try {
                    Thread.sleep(100L << attempt);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static TaskRunId taskRun(String dispatchId) {
        return new TaskRunId(dispatchId.substring(0, dispatchId.lastIndexOf('/')));
    }

    private static int attempt(String dispatchId) {
        return Integer.parseInt(dispatchId.substring(dispatchId.lastIndexOf('/') + 1));
    }

    @Override
    public void close() {
        startTimer.shutdownNow(); // a start not recorded yet is recorded by its attempt's report, on any node
        senders.shutdown();
        try {
            if (!senders.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("Backend reports still being sent at shutdown; their attempts' timeouts settle them");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
