package io.dagy.command.schedule;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.deployment.DeploymentIds;
import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunStatus;
import io.dagy.contracts.schedule.FireKind;
import io.dagy.contracts.schedule.OverlapPolicy;
import io.dagy.contracts.schedule.ScheduleCommands.BackfillSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.DeleteSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.PauseSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.PutSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.RecordScheduledRunEnded;
import io.dagy.contracts.schedule.ScheduleCommands.TriggerSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.UnpauseSchedule;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleBackfillAdvanced;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleBackfillRequested;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleCreated;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFireBuffered;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFirePlanned;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFireSkipped;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFired;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFiresMissed;
import io.dagy.contracts.schedule.ScheduleEvents.SchedulePaused;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleUnpaused;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduledRunCancelRequested;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduledRunEnded;
import io.dagy.contracts.schedule.ScheduleId;
import io.dagy.contracts.schedule.ScheduleSpec;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ScheduleTest {

    private static final OrgId ACME = new OrgId("acme");
    private static final DeploymentName ETL = new DeploymentName("etl");
    private static final ScheduleId ID = new ScheduleId(ACME, ETL, "s-1");
    private static final ScheduleSpec HOURLY = ScheduleSpec.cron("0 * * * *", "UTC");
    private static final Instant NOW = Instant.parse("2026-01-01T09:30:00Z");
    private static final Instant TEN = Instant.parse("2026-01-01T10:00:00Z");
    private static final Instant ELEVEN = Instant.parse("2026-01-01T11:00:00Z");
    private static final Instant TWELVE = Instant.parse("2026-01-01T12:00:00Z");
    private static final RunId EARLIER_RUN = new RunId("r-earlier");

    private AggregateTestFixture<Schedule> fixture;

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(Schedule.class);
        fixture.registerCommandTargetResolver(new DagyCommandTargetResolver(new DeploymentIds(name -> false)));
        fixture.registerInjectableResource(new ScheduleClock(new FixtureClock()));
        fixture.registerInjectableResource((DeploymentLookup) (org, name) -> name.equals(ETL));
    }

    /** The fixture's time, which {@code whenThenTimeAdvancesTo} moves. */
    private final class FixtureClock extends Clock {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return downtimeEndsAt != null ? downtimeEndsAt : fixture.currentTime();
        }
    }

    /**
     * The fixture's deadline stub runs each deadline at its own time; a node that was down runs it later. Set, this is
     * the time the schedule reads while its deadlines fire.
     */
    private Instant downtimeEndsAt;

    private static org.hamcrest.Matcher<Object> code(ErrorCode code) {
        return new org.hamcrest.CustomMatcher<>("a business error " + code) {
            @Override
            public boolean matches(Object actual) {
                return actual instanceof BusinessError error && error.code() == code;
            }
        };
    }

    private static org.hamcrest.Matcher<Object> errorCount(int count) {
        return new org.hamcrest.CustomMatcher<>(count + " field errors") {
            @Override
            public boolean matches(Object actual) {
                return actual instanceof BusinessError error && error.errors().size() == count;
            }
        };
    }

    private static PutSchedule put(ScheduleSpec spec) {
        return new PutSchedule(ID, spec, Map.of("region", "eu"), false);
    }

    private static ScheduleFired fired(Instant fireTime, FireKind kind, RunId runId) {
        return new ScheduleFired(ID, runId, fireTime, kind, Map.of("region", "eu", "fire_time", fireTime.toString(),
                "schedule_id", "s-1"));
    }

    private static ScheduleFired fired(Instant fireTime) {
        return fired(fireTime, FireKind.SCHEDULED, ScheduleRunIds.scheduled(ID, fireTime));
    }

    private static ScheduleFired running() {
        return new ScheduleFired(ID, EARLIER_RUN, Instant.parse("2026-01-01T09:00:00Z"), FireKind.SCHEDULED, Map.of());
    }

    @Test
    void creatingAScheduleHoldsItsFirstFireAsADeadline() {
        fixture.givenCurrentTime(NOW)
                .when(put(HOURLY))
                .expectEvents(new ScheduleCreated(ID, HOURLY, Map.of("region", "eu")), new ScheduleFirePlanned(ID, TEN, TEN))
                .expectScheduledDeadline(TEN, new Schedule.FireDue(TEN));
    }

    @Test
    void anInvalidSpecIsRefusedWithEveryError() {
        fixture.givenCurrentTime(NOW)
                .when(put(new ScheduleSpec("99 * * * *", null, null, "Nowhere/City", null, null, null, null, null)))
                .expectNoEvents()
                .expectExceptionDetails(code(ErrorCode.VALIDATION_FAILED))
                .expectExceptionDetails(errorCount(2));
    }

    @Test
    void aScheduleOfAnUnknownDeploymentIsRefused() {
        fixture.givenCurrentTime(NOW)
                .when(new PutSchedule(new ScheduleId(ACME, new DeploymentName("nope"), "s-1"), HOURLY, Map.of(), false))
                .expectNoEvents()
                .expectExceptionDetails(new BusinessError(ErrorCode.DEPLOYMENT_NOT_FOUND,
                        "No deployment is named 'nope'.", List.of()));
    }

    @Test
    void aDueFireStartsItsRunWithTheFireTimeAsAParamAndPlansTheNext() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY))
                .whenThenTimeAdvancesTo(TEN)
                .expectEvents(fired(TEN), new ScheduleFirePlanned(ID, ELEVEN, ELEVEN))
                .expectScheduledDeadline(ELEVEN, new Schedule.FireDue(ELEVEN));
    }

    @Test
    void theRunIdOfAFireIsDerivedFromTheScheduleAndTheFireTime() {
        assertThat(ScheduleRunIds.scheduled(ID, TEN)).isEqualTo(ScheduleRunIds.scheduled(ID, TEN))
                .isNotEqualTo(ScheduleRunIds.scheduled(ID, ELEVEN))
                .isNotEqualTo(ScheduleRunIds.scheduled(new ScheduleId(new OrgId("other"), ETL, "s-1"), TEN));
    }

    @Test
    void skipSkipsAFireWhileARunStillRuns() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY))
                .andGiven(running())
                .whenThenTimeAdvancesTo(TEN)
                .expectEvents(new ScheduleFireSkipped(ID, TEN, FireKind.SCHEDULED, "overlap"),
                        new ScheduleFirePlanned(ID, ELEVEN, ELEVEN));
    }

    @Test
    void bufferOneKeepsOneFireWaitingAndSkipsTheNext() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY.withOverlap(OverlapPolicy.BUFFER_ONE)))
                .andGiven(running())
                .andGivenCommands(new TriggerSchedule(ID)) // waits
                .whenThenTimeAdvancesTo(TEN)
                .expectEvents(new ScheduleFireSkipped(ID, TEN, FireKind.SCHEDULED, "buffer_full"),
                        new ScheduleFirePlanned(ID, ELEVEN, ELEVEN));
    }

    @Test
    void aWaitingFireStartsWhenTheRunningRunEnds() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY.withOverlap(OverlapPolicy.BUFFER_ALL)))
                .andGiven(running(), new ScheduleFireBuffered(ID, TEN, FireKind.SCHEDULED, ScheduleRunIds.scheduled(ID, TEN)),
                        new ScheduleFireBuffered(ID, ELEVEN, FireKind.SCHEDULED, ScheduleRunIds.scheduled(ID, ELEVEN)))
                .when(new RecordScheduledRunEnded(ID, EARLIER_RUN, RunStatus.SUCCEEDED, null))
                .expectEvents(new ScheduledRunEnded(ID, EARLIER_RUN, RunStatus.SUCCEEDED, null), fired(TEN))
                .expectState(schedule -> assertThat(describe(schedule).bufferedFires()).isEqualTo(1));
    }

    @Test
    void bufferAllKeepsEveryFireWaiting() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY.withOverlap(OverlapPolicy.BUFFER_ALL)))
                .andGiven(running())
                .andGivenCommands(new TriggerSchedule(ID)) // waits
                .whenThenTimeAdvancesTo(TEN)
                .expectEvents(new ScheduleFireBuffered(ID, TEN, FireKind.SCHEDULED, ScheduleRunIds.scheduled(ID, TEN)),
                        new ScheduleFirePlanned(ID, ELEVEN, ELEVEN))
                .expectState(schedule -> assertThat(describe(schedule).bufferedFires()).isEqualTo(2));
    }

    @Test
    void cancelOtherCancelsTheRunningRunAndStartsTheFireWhenItHasEnded() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY.withOverlap(OverlapPolicy.CANCEL_OTHER)))
                .andGiven(running())
                .whenThenTimeAdvancesTo(TEN)
                .expectEvents(new ScheduledRunCancelRequested(ID, EARLIER_RUN),
                        new ScheduleFireBuffered(ID, TEN, FireKind.SCHEDULED, ScheduleRunIds.scheduled(ID, TEN)),
                        new ScheduleFirePlanned(ID, ELEVEN, ELEVEN));
    }

    @Test
    void terminateOtherCancelsTheRunningRunAndStartsTheFireAtOnce() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY.withOverlap(OverlapPolicy.TERMINATE_OTHER)))
                .andGiven(running())
                .whenThenTimeAdvancesTo(TEN)
                .expectEvents(new ScheduledRunCancelRequested(ID, EARLIER_RUN), fired(TEN),
                        new ScheduleFirePlanned(ID, ELEVEN, ELEVEN));
    }

    @Test
    void allowAllStartsAFireWhateverRuns() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY.withOverlap(OverlapPolicy.ALLOW_ALL)))
                .andGiven(running())
                .whenThenTimeAdvancesTo(TEN)
                .expectEvents(fired(TEN), new ScheduleFirePlanned(ID, ELEVEN, ELEVEN));
    }

    @Test
    void afterDowntimeFiresWithinTheCatchUpWindowRunAndOlderOnesAreCountedAsMissed() {
        var given = fixture.givenCurrentTime(NOW).andGivenCommands(put(HOURLY.withOverlap(OverlapPolicy.ALLOW_ALL)
                .withCatchupWindow(Duration.ofHours(2))));
        downtimeEndsAt = Instant.parse("2026-01-01T13:20:00Z"); // 10:00, 11:00 older than 2 h; 12:00, 13:00 within
        given.whenThenTimeAdvancesTo(TEN)
                .expectEvents(new ScheduleFiresMissed(ID, 2, TEN, ELEVEN),
                        fired(TWELVE, FireKind.CATCH_UP, ScheduleRunIds.scheduled(ID, TWELVE)),
                        fired(Instant.parse("2026-01-01T13:00:00Z"), FireKind.CATCH_UP,
                                ScheduleRunIds.scheduled(ID, Instant.parse("2026-01-01T13:00:00Z"))),
                        new ScheduleFirePlanned(ID, Instant.parse("2026-01-01T14:00:00Z"),
                                Instant.parse("2026-01-01T14:00:00Z")));
    }

    @Test
    void aCatchUpRespectsTheOverlapPolicy() {
        var given = fixture.givenCurrentTime(NOW).andGivenCommands(put(HOURLY.withCatchupWindow(Duration.ofHours(2))));
        downtimeEndsAt = Instant.parse("2026-01-01T13:20:00Z");
        given.whenThenTimeAdvancesTo(TEN)
                .expectEvents(new ScheduleFiresMissed(ID, 2, TEN, ELEVEN),
                        fired(TWELVE, FireKind.CATCH_UP, ScheduleRunIds.scheduled(ID, TWELVE)),
                        new ScheduleFireSkipped(ID, Instant.parse("2026-01-01T13:00:00Z"), FireKind.CATCH_UP, "overlap"),
                        new ScheduleFirePlanned(ID, Instant.parse("2026-01-01T14:00:00Z"),
                                Instant.parse("2026-01-01T14:00:00Z")));
    }

    @Test
    void aPausedScheduleDoesNotFire() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY), new PauseSchedule(ID, "maintenance"))
                .whenThenTimeAdvancesTo(ELEVEN)
                .expectNoEvents();
    }

    @Test
    void pausingKeepsTheNoteAndCancelsTheFire() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY))
                .when(new PauseSchedule(ID, "maintenance"))
                .expectEvents(new SchedulePaused(ID, "maintenance"))
                .expectNoScheduledDeadlines()
                .expectState(schedule -> assertThat(describe(schedule).note()).isEqualTo("maintenance"));
    }

    @Test
    void unpausingPlansTheFirstFireAfterNow() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY), new PauseSchedule(ID, "maintenance"))
                .andGivenCurrentTime(Instant.parse("2026-01-01T10:30:00Z"))
                .when(new UnpauseSchedule(ID))
                .expectEvents(new ScheduleUnpaused(ID), new ScheduleFirePlanned(ID, ELEVEN, ELEVEN))
                .expectScheduledDeadline(ELEVEN, new Schedule.FireDue(ELEVEN));
    }

    @Test
    void aDeadlineOfAnEarlierPlanDoesNothing() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY))
                .andGiven(new ScheduleFirePlanned(ID, ELEVEN, ELEVEN)) // as if the 10:00 deadline were stale
                .whenThenTimeAdvancesTo(Instant.parse("2026-01-01T10:10:00Z"))
                .expectNoEvents();
    }

    @Test
    void jitterDelaysTheDeadlineNotTheFireTime() {
        ScheduleSpec jittered = ScheduleSpec.every(Duration.ofMinutes(30)).withJitter(Duration.ofMinutes(10));
        Instant due = TEN.plus(ScheduleCalendar.of(jittered).jitter(ID, TEN));
        fixture.givenCurrentTime(NOW)
                .when(put(jittered))
                .expectEvents(new ScheduleCreated(ID, jittered, Map.of("region", "eu")), new ScheduleFirePlanned(ID, TEN, due))
                .expectScheduledDeadline(due, new Schedule.FireDue(TEN));
    }

    @Test
    void triggeringFiresNowUnderTheOverlapPolicy() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY))
                .when(new TriggerSchedule(ID))
                .expectEvents(fired(NOW, FireKind.MANUAL, ScheduleRunIds.manual(ID, NOW, 1)))
                .expectResultMessagePayload(new Schedule.Triggered("started", ScheduleRunIds.manual(ID, NOW, 1), NOW));
    }

    @Test
    void aBackfillFiresEveryFireTimeOfTheRangeInSteps() {
        Instant from = Instant.parse("2025-12-01T00:00:00Z");
        List<Instant> fires = ScheduleCalendar.of(HOURLY).between(from, from.plus(Duration.ofHours(11)), 100);
        assertThat(fires).hasSize(12);
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY), new BackfillSchedule(ID, from, from.plus(Duration.ofHours(11)), null))
                .whenThenTimeElapses(Duration.ofSeconds(1))
                .expectState(schedule -> {
                    assertThat(describe(schedule).counters().fired()).isEqualTo(12);
                    assertThat(describe(schedule).backfillPending()).isZero();
                });
    }

    @Test
    void aBackfillIsRequestedWithItsFireTimes() {
        Instant from = Instant.parse("2025-12-01T00:00:00Z");
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY))
                .when(new BackfillSchedule(ID, from, from.plus(Duration.ofHours(2)), null))
                .expectEvents(new ScheduleBackfillRequested(ID, 1, List.of(from, from.plus(Duration.ofHours(1)),
                        from.plus(Duration.ofHours(2))), OverlapPolicy.ALLOW_ALL))
                .expectResultMessagePayload(3);
    }

    @Test
    void aBackfillStepStartsTheRunsOfItsFireTimes() {
        Instant from = Instant.parse("2025-12-01T00:00:00Z");
        Instant second = from.plus(Duration.ofHours(1));
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY), new BackfillSchedule(ID, from, second, null))
                .whenThenTimeElapses(Duration.ofMillis(1))
                .expectEvents(new ScheduleBackfillAdvanced(ID, 2),
                        fired(from, FireKind.BACKFILL, ScheduleRunIds.backfill(ID, from, 1)),
                        fired(second, FireKind.BACKFILL, ScheduleRunIds.backfill(ID, second, 1)));
    }

    @Test
    void aBackfillOfTooManyFireTimesIsRefused() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(ScheduleSpec.every(Duration.ofMinutes(1))))
                .when(new BackfillSchedule(ID, TEN, TEN.plus(Duration.ofDays(1)), null))
                .expectNoEvents()
                .expectExceptionDetails(code(ErrorCode.VALIDATION_FAILED));
    }

    @Test
    void aDeletedScheduleIsNotFound() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY), new DeleteSchedule(ID))
                .when(new PauseSchedule(ID, "x"))
                .expectNoEvents()
                .expectExceptionDetails(code(ErrorCode.SCHEDULE_NOT_FOUND));
    }

    @Test
    void aRepeatedRunEndChangesNothing() {
        fixture.givenCurrentTime(NOW)
                .andGivenCommands(put(HOURLY))
                .andGiven(running(), new ScheduledRunEnded(ID, EARLIER_RUN, RunStatus.SUCCEEDED, null))
                .when(new RecordScheduledRunEnded(ID, EARLIER_RUN, RunStatus.SUCCEEDED, null))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    private io.dagy.contracts.schedule.ScheduleView describe(Schedule schedule) {
        try {
            var method = Schedule.class.getDeclaredMethod("view", Instant.class, int.class);
            method.setAccessible(true);
            return (io.dagy.contracts.schedule.ScheduleView) method.invoke(schedule, NOW, 10);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
