package io.dagy.query.run;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunEvents.RunCancelling;
import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunEvents.RunRerunStarted;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.run.RunEvents.TaskOutcomeRecorded;
import io.dagy.contracts.run.RunEvents.TasksNotRun;
import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunQueries.ListRunEvents;
import io.dagy.contracts.run.RunQueries.RunEventPage;
import io.dagy.contracts.run.RunQueries.RunEventView;
import io.dagy.contracts.run.RunQueries.TaskCounts;
import io.dagy.contracts.run.RunStatus;
import io.dagy.contracts.run.TaskStatus;
import io.dagy.eventstore.events.FamilyHistory;
import io.dagy.eventstore.events.FamilyHistory.Origin;
import io.dagy.eventstore.events.FamilyHistory.Placed;
import io.dagy.query.paging.PageCursor;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.queryhandling.QueryHandler;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A run's history from the event store, not from a view: the run's and its task runs' events in the order they were
 * stored ({@link FamilyHistory}: they share the run's shard). It answers {@code GET /v1/runs/{id}/events} and feeds the
 * run's live stream, which any node can serve whichever node projected or appended the change, since the store is
 * shared. A run of another organization does not exist for the caller.
 */
public class RunHistory {

    /** Positions one page may examine (the run's and its shard neighbours' events). */
    static final int MAX_EXAMINED = 2_000;

    /**
     * The run as its own events say it is up to {@code position} (the position of its last event read): status, task
     * counts and rerun number. {@code finished} when that status is final.
     */
    public record Snapshot(RunId runId, RunStatus status, TaskCounts counts, int rerun, long position) {
        public boolean finished() {
            return status.isTerminal();
        }
    }

    private final FamilyHistory history;

    public RunHistory(FamilyHistory history) {
        this.history = history;
    }

    @QueryHandler
    Optional<RunEventPage> handle(ListRunEvents query) {
        long after = query.cursor() == null ? 0 : Long.parseLong(PageCursor.RUN_EVENTS.decode(query.cursor())
                .orElseThrow(() -> new IllegalArgumentException("not a cursor of a run's events")));
        return origin(query.organization(), query.runId()).map(origin -> {
            FamilyHistory.Page page = history.read(query.runId().value(), origin, after, query.limit(), MAX_EXAMINED);
            return new RunEventPage(page.events().stream().map(RunHistory::view).toList(),
                    page.atEnd() ? null : PageCursor.RUN_EVENTS.encode(Long.toString(page.resolved())), page.resolved());
        });
    }

    /** Where the run's events are, if the run exists and belongs to the organization. */
    public Optional<Origin> origin(OrgId organization, RunId runId) {
        return history.origin(runId.value())
                .filter(origin -> origin.firstEvent().getPayload() instanceof RunStarted started
                        && started.organization().equals(organization));
    }

    /** Up to {@code limit} events of the run after {@code after}, as far as they are stored. */
    public FamilyHistory.Page after(RunId runId, Origin origin, long after, int limit) {
        return history.read(runId.value(), origin, after, limit, MAX_EXAMINED);
    }

    /**
     * Whether the run had finished at {@code position}: its last event is its end, stored at or before that position
     * (one item read).
     */
    public boolean finishedBy(RunId runId, long position) {
        return history.lastRootEvent(runId.value())
                .filter(last -> last.event().getPayload() instanceof RunFinished && last.position() <= position)
                .isPresent();
    }

    /** The run's state from its own events (not its task runs'): one query of the run aggregate. */
    public Snapshot snapshot(RunId runId) {
        RunStatus status = RunStatus.RUNNING;
        TaskCounts counts = TaskCounts.of(0);
        int rerun = 0;
        long position = 0;
        Map<String, TaskStatus> finals = new HashMap<>();
        for (Placed placed : history.rootEvents(runId.value())) {
            position = placed.position();
            Object event = placed.event().getPayload();
            if (event instanceof RunStarted started) {
                counts = TaskCounts.of(started.dag().tasks().size());
            } else if (event instanceof TasksReady ready) {
                counts = counts.ready(ready.tasks().size());
            } else if (event instanceof TaskOutcomeRecorded outcome) {
                counts = counts.outcome(outcome.outcome());
                finals.put(outcome.taskId(), outcome.outcome());
            } else if (event instanceof TasksNotRun notRun) {
                counts = counts.notRun(notRun.outcomes().values());
                finals.putAll(notRun.outcomes());
            } else if (event instanceof RunRerunStarted rerunStarted) {
                counts = counts.reset(rerunStarted.resetTasks().stream()
                        .map(task -> finals.getOrDefault(task, TaskStatus.PENDING)).toList());
                rerunStarted.resetTasks().forEach(finals::remove);
                rerun = rerunStarted.rerun();
                status = RunStatus.RUNNING;
            } else if (event instanceof RunCancelling) {
                status = RunStatus.CANCELLING;
            } else if (event instanceof RunFinished finished) {
                status = finished.status();
            }
        }
        return new Snapshot(runId, status, counts, rerun, position);
    }

    public static RunEventView view(Placed placed) {
        DomainEventMessage<?> event = placed.event();
        return new RunEventView(placed.position(), event.getPayloadType().getSimpleName(), event.getAggregateIdentifier(),
                event.getSequenceNumber(), event.getTimestamp(), event.getPayload());
    }

    /** Whether the event ends the run (its stream ends after it). */
    public static boolean finishes(RunEventView event) {
        return event.payload() instanceof RunFinished;
    }

    /** Whether the event starts the run again. */
    public static boolean reruns(RunEventView event) {
        return event.payload() instanceof RunRerunStarted;
    }
}
