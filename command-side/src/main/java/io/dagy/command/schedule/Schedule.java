package io.dagy.command.schedule;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.common.DagyRuleViolation;
import io.dagy.command.common.Tenancy;
import io.dagy.contracts.BusinessError;
import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.schedule.FireKind;
import io.dagy.contracts.schedule.OverlapPolicy;
import io.dagy.contracts.schedule.ScheduleCommands.BackfillSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.DeleteSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.DescribeSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.PauseSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.PutSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.RecordScheduledRunEnded;
import io.dagy.contracts.schedule.ScheduleCommands.TriggerSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.UnpauseSchedule;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleBackfillAdvanced;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleBackfillRequested;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleCreated;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleDeleted;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFireBuffered;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFirePlanned;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFireSkipped;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFired;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFiresMissed;
import io.dagy.contracts.schedule.ScheduleEvents.SchedulePaused;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleUnpaused;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleUpdated;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduledRunCancelRequested;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduledRunEnded;
import io.dagy.contracts.schedule.ScheduleId;
import io.dagy.contracts.schedule.ScheduleSpec;
import io.dagy.contracts.schedule.ScheduleView;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.deadline.annotation.DeadlineHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.CommandHandlerInterceptor;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.spring.stereotype.Aggregate;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A schedule of a deployment: when it fires (its {@link ScheduleSpec}), whether it is paused, which of its runs still
 * run, which fires wait for them, and its counters. Each fire is a durable deadline of this aggregate in the deadline
 * manager; only the fire the aggregate has planned acts, so a deadline that fires twice (at least once delivery), late
 * (after downtime) or after a pause or a spec change does nothing the second time. Every fire becomes a run whose id
 * is derived from the schedule and the fire time ({@link ScheduleRunIds}); {@code ScheduledRunSaga} starts it and
 * reports its end. Semantics: docs/schedules.md.
 */
@Aggregate(commandTargetResolver = DagyCommandTargetResolver.BEAN_NAME, snapshotTriggerDefinition = "dagySnapshotTrigger")
public class Schedule {

    static final String FIRE = "schedule-fire";
    static final String BACKFILL = "schedule-backfill";
    /** Fires (of the catch-up window, or of a backfill) one deadline handles at most: its events fit one append. */
    static final int MAX_FIRES_PER_STEP = 10;
    /** Fires that wait (buffer_all) at most; later ones are skipped. */
    static final int MAX_BUFFER = 1_000;
    /** Fire times one backfill may hold. */
    static final int MAX_BACKFILL = 1_000;
    /** Fire times a catch-up counts one by one before it gives up counting exactly (a year of minutes). */
    private static final int MAX_COUNTED = 600_000;
    /** The longest note on a pause. */
    static final int MAX_NOTE = 1_000;

    @AggregateIdentifier
    private String id;
    private ScheduleId scheduleId;
    private ScheduleSpec spec;
    private Map<String, Object> params;
    private boolean deleted;
    private boolean paused;
    private String note;
    private Instant nextFireTime;
    private Instant lastFireTime;
    private LinkedHashSet<String> running = new LinkedHashSet<>();
    private LinkedHashSet<String> cancelling = new LinkedHashSet<>();
    private ArrayDeque<Waiting> buffer = new ArrayDeque<>();
    private ArrayDeque<BackfillFire> backfill = new ArrayDeque<>();
    private int backfills;
    private long triggers;
    private long fired;
    private long skipped;
    private long missed;

    /** A fire that waits for the running runs to end. */
    record Waiting(Instant fireTime, FireKind kind, RunId runId) {
    }

    /** A fire time a backfill still has to fire. */
    record BackfillFire(Instant fireTime, int backfill, OverlapPolicy overlap) {
    }

    /** The payload of a fire deadline: the fire time it is for. */
    public record FireDue(Instant fireTime) {
    }

    /** The payload of a backfill step's deadline. */
    public record BackfillDue(int backfill) {
    }

    /** What a trigger did: started {@code runId}, or the overlap policy made it wait or skip it. */
    public record Triggered(String outcome, RunId runId, Instant fireTime) {
    }

    protected Schedule() {
        // for Axon
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    ScheduleView handle(PutSchedule command, ScheduleClock clock, DeadlineManager deadlines, DeploymentLookup deployments) {
        boolean exists = scheduleId != null && !deleted;
        if (!exists && command.mustExist()) {
            throw notFound(command.scheduleId());
        }
        List<FieldError> errors = ScheduleRules.validate(command.spec(), command.params());
        if (!errors.isEmpty()) {
            throw new DagyRuleViolation(new BusinessError(ErrorCode.VALIDATION_FAILED, "The schedule is invalid.", errors));
        }
        Instant now = clock.now();
        if (!exists) {
            if (!deployments.exists(command.scheduleId().org(), command.scheduleId().deployment())) {
                throw new DagyRuleViolation(ErrorCode.DEPLOYMENT_NOT_FOUND,
                        "No deployment is named '" + command.scheduleId().deployment() + "'.");
            }
            Tenancy.stamp(command.scheduleId().org());
            apply(new ScheduleCreated(command.scheduleId(), command.spec(), command.params()));
            plan(now, deadlines);
        } else if (!command.spec().equals(spec) || !command.params().equals(params)) {
            deadlines.cancelAllWithinScope(FIRE);
            apply(new ScheduleUpdated(scheduleId, command.spec(), command.params()));
            if (!paused) {
                plan(now, deadlines); // a paused schedule plans when it is unpaused
            }
        }
        return view(now, 10);
    }

    @CommandHandler
    void handle(DeleteSchedule command, DeadlineManager deadlines) {
        requireExisting();
        deadlines.cancelAllWithinScope(FIRE);
        deadlines.cancelAllWithinScope(BACKFILL);
        apply(new ScheduleDeleted(scheduleId));
    }

    @CommandHandler
    ScheduleView handle(PauseSchedule command, ScheduleClock clock, DeadlineManager deadlines) {
        requireExisting();
        String wanted = command.note() == null ? "" : command.note();
        if (wanted.length() > MAX_NOTE) {
            throw new DagyRuleViolation(new BusinessError(ErrorCode.VALIDATION_FAILED, "The pause is invalid.",
                    List.of(new FieldError("note", "at most " + MAX_NOTE + " characters"))));
        }
        if (!paused) {
            deadlines.cancelAllWithinScope(FIRE);
        }
        if (!paused || !wanted.equals(note)) {
            apply(new SchedulePaused(scheduleId, wanted));
        }
        return view(clock.now(), 10);
    }

    @CommandHandler
    ScheduleView handle(UnpauseSchedule command, ScheduleClock clock, DeadlineManager deadlines) {
        requireExisting();
        Instant now = clock.now();
        if (paused) {
            apply(new ScheduleUnpaused(scheduleId));
            plan(now, deadlines);
            startWaiting();
        }
        return view(now, 10);
    }

    @CommandHandler
    Triggered handle(TriggerSchedule command, ScheduleClock clock) {
        requireExisting();
        Instant now = clock.now();
        RunId runId = ScheduleRunIds.manual(scheduleId, now, triggers + 1);
        String outcome = fire(now, FireKind.MANUAL, runId, spec.overlap());
        return new Triggered(outcome, "started".equals(outcome) ? runId : null, now);
    }

    @CommandHandler
    int handle(BackfillSchedule command, ScheduleClock clock, DeadlineManager deadlines) {
        requireExisting();
        List<FieldError> errors = new ArrayList<>();
        if (command.from() == null) {
            errors.add(new FieldError("from", "is required"));
        }
        if (command.to() == null) {
            errors.add(new FieldError("to", "is required"));
        }
        if (command.from() != null && command.to() != null && command.to().isBefore(command.from())) {
            errors.add(new FieldError("to", "must not be before from"));
        }
        List<Instant> fires = errors.isEmpty()
                ? ScheduleCalendar.of(spec).between(command.from(), command.to(), MAX_BACKFILL + 1) : List.of();
        if (fires.size() > MAX_BACKFILL) {
            errors.add(new FieldError("to", "the range holds more than " + MAX_BACKFILL
                    + " fire times; backfill it in parts"));
        }
        if (!errors.isEmpty()) {
            throw new DagyRuleViolation(new BusinessError(ErrorCode.VALIDATION_FAILED, "The backfill is invalid.", errors));
        }
        if (fires.isEmpty()) {
            return 0;
        }
        if (backfill.isEmpty()) {
            deadlines.schedule(clock.now(), BACKFILL, new BackfillDue(backfills + 1));
        }
        apply(new ScheduleBackfillRequested(scheduleId, backfills + 1, fires,
                command.overlap() == null ? OverlapPolicy.ALLOW_ALL : command.overlap()));
        return fires.size();
    }

    @CommandHandler
    void handle(RecordScheduledRunEnded command) {
        if (scheduleId == null || !running.contains(command.runId().value())) {
            return; // a repeated report, or a run of a schedule since deleted and created again
        }
        apply(new ScheduledRunEnded(scheduleId, command.runId(), command.status(), command.reason()));
        if (!deleted && !paused) {
            startWaiting();
        }
    }

    @CommandHandler
    ScheduleView handle(DescribeSchedule command, ScheduleClock clock) {
        requireExisting();
        return view(clock.now(), command.nextFireTimes());
    }

    /**
     * The planned fire is due (or late): every fire time due by now runs if it is within the catch-up window (at most
     * {@link #MAX_FIRES_PER_STEP}, the latest ones), older ones are counted as missed; then the next fire is planned.
     * Any other deadline of this scope (an earlier plan, a repeated delivery) finds nothing to do.
     */
    @DeadlineHandler(deadlineName = FIRE)
    void on(FireDue due, ScheduleClock clock, DeadlineManager deadlines) {
        if (scheduleId == null || deleted || paused || !due.fireTime().equals(nextFireTime)) {
            return;
        }
        Tenancy.stamp(scheduleId.org());
        Instant now = clock.now();
        ScheduleCalendar calendar = ScheduleCalendar.of(spec);
        List<Instant> inWindow = new ArrayList<>();
        long missedCount = 0;
        Instant firstMissed = null;
        Instant lastMissed = null;
        Optional<Instant> next = Optional.of(due.fireTime());
        for (int counted = 0; next.isPresent() && counted < MAX_COUNTED; counted++) {
            Instant fireTime = next.get();
            Instant dueAt = fireTime.plus(calendar.jitter(scheduleId, fireTime));
            if (dueAt.isAfter(now)) {
                break;
            }
            if (Duration.between(dueAt, now).compareTo(spec.catchupWindow()) > 0) {
                missedCount++;
                firstMissed = firstMissed == null ? fireTime : firstMissed;
                lastMissed = fireTime;
            } else {
                inWindow.add(fireTime);
            }
            next = calendar.next(fireTime);
        }
        if (next.isPresent() && !next.get().plus(calendar.jitter(scheduleId, next.get())).isAfter(now)) {
            next = calendar.next(now); // more than MAX_COUNTED fires were due: the rest count as one leap
        }
        while (inWindow.size() > MAX_FIRES_PER_STEP) {
            Instant older = inWindow.remove(0);
            missedCount++;
            firstMissed = firstMissed == null ? older : firstMissed;
            lastMissed = older;
        }
        // the next deadline first: its write precedes this step's events, so no committed plan lacks its deadline
        Instant nextDue = next.map(fireTime -> fireTime.plus(calendar.jitter(scheduleId, fireTime))).orElse(null);
        if (nextDue != null) {
            deadlines.schedule(nextDue, FIRE, new FireDue(next.get()));
        }
        if (missedCount > 0) {
            apply(new ScheduleFiresMissed(scheduleId, missedCount, firstMissed, lastMissed));
        }
        for (Instant fireTime : inWindow) {
            Instant dueAt = fireTime.plus(calendar.jitter(scheduleId, fireTime));
            FireKind kind = Duration.between(dueAt, now).compareTo(ScheduleRules.MIN_CATCHUP_WINDOW) < 0
                    ? FireKind.SCHEDULED : FireKind.CATCH_UP;
            fire(fireTime, kind, ScheduleRunIds.scheduled(scheduleId, fireTime), spec.overlap());
        }
        apply(new ScheduleFirePlanned(scheduleId, next.orElse(null), nextDue));
    }

    /** A step of a backfill: its next fire times, at most {@link #MAX_FIRES_PER_STEP}; the rest in the next step. */
    @DeadlineHandler(deadlineName = BACKFILL)
    void on(BackfillDue due, ScheduleClock clock, DeadlineManager deadlines) {
        if (scheduleId == null || deleted || backfill.isEmpty()) {
            return;
        }
        Tenancy.stamp(scheduleId.org());
        List<BackfillFire> step = backfill.stream().limit(MAX_FIRES_PER_STEP).toList();
        if (backfill.size() > step.size()) {
            deadlines.schedule(clock.now(), BACKFILL, new BackfillDue(step.get(step.size() - 1).backfill()));
        }
        apply(new ScheduleBackfillAdvanced(scheduleId, step.size()));
        for (BackfillFire fire : step) {
            fire(fire.fireTime(), FireKind.BACKFILL, ScheduleRunIds.backfill(scheduleId, fire.fireTime(), fire.backfill()),
                    fire.overlap());
        }
    }

    @CommandHandlerInterceptor
    void stampOrganization() {
        if (scheduleId != null) {
            Tenancy.stamp(scheduleId.org());
        }
    }

    /**
     * One fire under an overlap policy: starts its run, makes it wait, or skips it. Answers {@code started},
     * {@code buffered} or {@code skipped}.
     */
    private String fire(Instant fireTime, FireKind kind, RunId runId, OverlapPolicy policy) {
        if (running.isEmpty() || policy == OverlapPolicy.ALLOW_ALL) {
            start(fireTime, kind, runId);
            return "started";
        }
        switch (policy) {
            case SKIP -> {
                apply(new ScheduleFireSkipped(scheduleId, fireTime, kind, "overlap"));
                return "skipped";
            }
            case BUFFER_ONE, CANCEL_OTHER -> {
                if (policy == OverlapPolicy.CANCEL_OTHER) {
                    cancelRunning();
                }
                if (!buffer.isEmpty()) {
                    apply(new ScheduleFireSkipped(scheduleId, fireTime, kind, "buffer_full"));
                    return "skipped";
                }
                apply(new ScheduleFireBuffered(scheduleId, fireTime, kind, runId));
                return "buffered";
            }
            case BUFFER_ALL -> {
                if (buffer.size() >= MAX_BUFFER) {
                    apply(new ScheduleFireSkipped(scheduleId, fireTime, kind, "buffer_full"));
                    return "skipped";
                }
                apply(new ScheduleFireBuffered(scheduleId, fireTime, kind, runId));
                return "buffered";
            }
            case TERMINATE_OTHER -> {
                cancelRunning();
                start(fireTime, kind, runId);
                return "started";
            }
            default -> throw new IllegalStateException("unhandled overlap policy " + policy);
        }
    }

    private void start(Instant fireTime, FireKind kind, RunId runId) {
        Map<String, Object> runParams = new LinkedHashMap<>(params);
        runParams.put(ScheduleRules.FIRE_TIME_PARAM,
                DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(fireTime.atZone(ScheduleCalendar.of(spec).zone())));
        runParams.put(ScheduleRules.SCHEDULE_ID_PARAM, scheduleId.id());
        apply(new ScheduleFired(scheduleId, runId, fireTime, kind, Map.copyOf(runParams)));
    }

    private void cancelRunning() {
        for (String run : List.copyOf(running)) {
            if (!cancelling.contains(run)) {
                apply(new ScheduledRunCancelRequested(scheduleId, new RunId(run)));
            }
        }
    }

    /** The waiting fire goes when no run of the schedule runs any more. */
    private void startWaiting() {
        if (running.isEmpty() && !buffer.isEmpty()) {
            Waiting next = buffer.peekFirst();
            start(next.fireTime(), next.kind(), next.runId());
        }
    }

    private void plan(Instant now, DeadlineManager deadlines) {
        ScheduleCalendar calendar = ScheduleCalendar.of(spec);
        Optional<Instant> next = calendar.next(now);
        Instant dueAt = next.map(fireTime -> fireTime.plus(calendar.jitter(scheduleId, fireTime))).orElse(null);
        if (dueAt != null) {
            deadlines.schedule(dueAt, FIRE, new FireDue(next.get()));
        }
        apply(new ScheduleFirePlanned(scheduleId, next.orElse(null), dueAt));
    }

    private ScheduleView view(Instant now, int count) {
        List<Instant> upcoming = new ArrayList<>();
        if (!paused && nextFireTime != null && count > 0) {
            upcoming.add(nextFireTime);
            upcoming.addAll(ScheduleCalendar.of(spec).upcoming(nextFireTime, count - 1));
        }
        return new ScheduleView(scheduleId, spec, params, paused ? "paused" : "active", paused ? note : null,
                lastFireTime, upcoming, running.stream().map(RunId::new).toList(), buffer.size(), backfill.size(),
                new ScheduleView.Counters(fired, skipped, missed));
    }

    private void requireExisting() {
        if (scheduleId == null || deleted) {
            throw notFound(scheduleId);
        }
    }

    private static DagyRuleViolation notFound(ScheduleId id) {
        return new DagyRuleViolation(ErrorCode.SCHEDULE_NOT_FOUND,
                id == null ? "No such schedule." : "No schedule has id '" + id.id() + "' in deployment '"
                        + id.deployment() + "'.");
    }

    @EventSourcingHandler
    void on(ScheduleCreated event) {
        id = event.scheduleId().toString();
        scheduleId = event.scheduleId();
        spec = event.spec();
        params = event.params();
        deleted = false;
        paused = false;
        note = null;
        nextFireTime = null;
        running = new LinkedHashSet<>();
        cancelling = new LinkedHashSet<>();
        buffer = new ArrayDeque<>();
        backfill = new ArrayDeque<>();
    }

    @EventSourcingHandler
    void on(ScheduleUpdated event) {
        spec = event.spec();
        params = event.params();
    }

    @EventSourcingHandler
    void on(ScheduleDeleted event) {
        deleted = true;
        nextFireTime = null;
        buffer.clear();
        backfill.clear();
    }

    @EventSourcingHandler
    void on(SchedulePaused event) {
        paused = true;
        note = event.note();
        nextFireTime = null;
    }

    @EventSourcingHandler
    void on(ScheduleUnpaused event) {
        paused = false;
        note = null;
    }

    @EventSourcingHandler
    void on(ScheduleFirePlanned event) {
        nextFireTime = event.fireTime();
    }

    @EventSourcingHandler
    void on(ScheduleFired event) {
        fired++;
        running.add(event.runId().value());
        if (buffer.peekFirst() != null && buffer.peekFirst().runId().equals(event.runId())) {
            buffer.pollFirst();
        }
        if (event.kind() == FireKind.MANUAL) {
            triggers++;
        }
        if (event.kind() != FireKind.BACKFILL && (lastFireTime == null || event.fireTime().isAfter(lastFireTime))) {
            lastFireTime = event.fireTime(); // backfills fire the past: they do not move the last fire back
        }
    }

    @EventSourcingHandler
    void on(ScheduleFireSkipped event) {
        skipped++;
        if (event.kind() == FireKind.MANUAL) {
            triggers++;
        }
    }

    @EventSourcingHandler
    void on(ScheduleFiresMissed event) {
        missed += event.count();
    }

    @EventSourcingHandler
    void on(ScheduleFireBuffered event) {
        buffer.addLast(new Waiting(event.fireTime(), event.kind(), event.runId()));
        if (event.kind() == FireKind.MANUAL) {
            triggers++;
        }
    }

    @EventSourcingHandler
    void on(ScheduledRunCancelRequested event) {
        cancelling.add(event.runId().value());
    }

    @EventSourcingHandler
    void on(ScheduledRunEnded event) {
        running.remove(event.runId().value());
        cancelling.remove(event.runId().value());
    }

    @EventSourcingHandler
    void on(ScheduleBackfillRequested event) {
        backfills = event.backfill();
        event.fireTimes().forEach(fireTime -> backfill.addLast(new BackfillFire(fireTime, event.backfill(),
                event.overlap())));
    }

    @EventSourcingHandler
    void on(ScheduleBackfillAdvanced event) {
        for (int i = 0; i < event.taken() && !backfill.isEmpty(); i++) {
            backfill.pollFirst();
        }
    }
}
