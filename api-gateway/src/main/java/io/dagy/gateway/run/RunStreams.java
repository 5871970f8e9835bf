package io.dagy.gateway.run;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunQueries.RunEventView;
import io.dagy.contracts.run.RunQueries.TaskCounts;
import io.dagy.eventstore.events.FamilyHistory;
import io.dagy.query.run.RunHistory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Live runs as Server-Sent Events, fed from the event store rather than from this node's processors: the run's events
 * may be appended and projected on any node, and the store is what every node shares. A stream sends
 * <ol>
 *   <li>{@code state}: the run as its own events say (status, task counts, rerun), with the position of its last
 *       event as the event id (skipped when the client resumes with {@code Last-Event-ID});</li>
 *   <li>every event of the run and its task runs after that position, in stored order, each with its position as id
 *       and its type as event name;</li>
 *   <li>{@code end} once the run is finished and everything up to its end was sent; then the response completes.</li>
 * </ol>
 * A client that reconnects with {@code Last-Event-ID} gets every event after that position: the history reader never
 * passes a position that may still receive an event. Each open stream polls the store every {@code pollInterval}
 * while it waits (one query), and sends a comment after 15 s of silence, so a client that went away is noticed.
 */
public class RunStreams implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RunStreams.class);
    private static final int PAGE = 200;
    /** A comment sent after this much silence: keeps proxies from closing the response, and finds clients gone. */
    private static final long KEEP_ALIVE_NANOS = Duration.ofSeconds(15).toNanos();

    /** The first message of a stream. */
    record StreamState(String runId, String status, TaskCounts counts, int rerun, long position) {
    }

    private final RunHistory history;
    private final Duration pollInterval;
    private final Duration timeout;
    private final ScheduledExecutorService polls = Executors.newScheduledThreadPool(2, runnable -> {
        Thread thread = new Thread(runnable, "run-streams");
        thread.setDaemon(true);
        return thread;
    });

    public RunStreams(RunHistory history, Duration pollInterval, Duration timeout) {
        this.history = history;
        this.pollInterval = pollInterval;
        this.timeout = timeout;
    }

    /** A stream of the run, or empty when the organization has no such run. */
    Optional<SseEmitter> open(OrgId organization, RunId runId, Long lastEventId) {
        return history.origin(organization, runId).map(origin -> {
            SseEmitter emitter = new SseEmitter(timeout.toMillis());
            Stream stream = new Stream(runId, origin, emitter);
            if (lastEventId == null) {
                RunHistory.Snapshot snapshot = history.snapshot(runId);
                stream.after = snapshot.position();
                stream.finished = snapshot.finished();
                stream.send(SseEmitter.event().name("state").id(Long.toString(snapshot.position()))
                        .data(new StreamState(runId.value(), snapshot.status().name(), snapshot.counts(), snapshot.rerun(),
                                snapshot.position()), MediaType.APPLICATION_JSON));
            } else {
                stream.after = lastEventId;
                // finished before what the client has seen: its end was sent already
                stream.finished = history.finishedBy(runId, lastEventId);
            }
            emitter.onCompletion(() -> stream.closed = true);
            emitter.onTimeout(() -> {
                stream.closed = true;
                emitter.complete();
            });
            emitter.onError(error -> stream.closed = true);
            polls.execute(stream::poll);
            return emitter;
        });
    }

    @Override
    public void close() {
        polls.shutdownNow();
    }

    private final class Stream {
        private final RunId runId;
        private final FamilyHistory.Origin origin;
        private final SseEmitter emitter;
        private volatile boolean closed;
        private long after;
        private boolean finished;
        private long lastSent = System.nanoTime();

        Stream(RunId runId, FamilyHistory.Origin origin, SseEmitter emitter) {
            this.runId = runId;
            this.origin = origin;
            this.emitter = emitter;
        }

        void poll() {
            if (closed) {
                return;
            }
            FamilyHistory.Page page;
            try {
                page = history.after(runId, origin, after, PAGE);
            } catch (RuntimeException e) {
                log.warn("Reading the history of run {} for its stream failed; trying again", runId, e);
                schedule();
                return;
            }
            for (FamilyHistory.Placed placed : page.events()) {
                RunEventView event = RunHistory.view(placed);
                if (!send(SseEmitter.event().name(event.type()).id(Long.toString(event.position()))
                        .data(event, MediaType.APPLICATION_JSON))) {
                    return;
                }
                if (RunHistory.finishes(event)) {
                    finished = true;
                } else if (RunHistory.reruns(event)) {
                    finished = false;
                }
            }
            after = page.resolved();
            if (page.atEnd() && finished) {
                // no id: a client that reconnects anyway resumes after the run's last event, and gets the end again
                send(SseEmitter.event().name("end").data("{}", MediaType.APPLICATION_JSON));
                closed = true;
                emitter.complete();
                return;
            }
            if (page.atEnd()) {
                if (System.nanoTime() - lastSent > KEEP_ALIVE_NANOS && !send(SseEmitter.event().comment("waiting"))) {
                    return;
                }
                schedule();
            } else {
                polls.execute(this::poll);
            }
        }

        private void schedule() {
            if (!closed && !polls.isShutdown()) {
                polls.schedule(this::poll, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
            }
        }

        private boolean send(SseEmitter.SseEventBuilder event) {
            try {
                emitter.send(event);
                lastSent = System.nanoTime();
                return true;
            } catch (IOException | IllegalStateException gone) {
                closed = true; // the client went away; it resumes with Last-Event-ID
                return false;
            }
        }
    }
}
