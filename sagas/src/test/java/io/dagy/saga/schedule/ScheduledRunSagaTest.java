package io.dagy.saga.schedule;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunCommands.CancelRun;
import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunStatus;
import io.dagy.contracts.schedule.FireKind;
import io.dagy.contracts.schedule.ScheduleCommands.RecordScheduledRunEnded;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFired;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduledRunCancelRequested;
import io.dagy.contracts.schedule.ScheduleId;
import org.axonframework.test.saga.SagaTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ScheduledRunSagaTest {

    private static final OrgId ACME = new OrgId("acme");
    private static final ScheduleId SCHEDULE = new ScheduleId(ACME, new DeploymentName("etl"), "s-1");
    private static final RunId RUN = new RunId("r-0123456789abcdef");
    private static final ScheduleFired FIRED = new ScheduleFired(SCHEDULE, RUN, Instant.parse("2026-01-01T10:00:00Z"),
            FireKind.SCHEDULED, Map.of("fire_time", "2026-01-01T10:00:00Z"));

    private SagaTestFixture<ScheduledRunSaga> fixture;
    private RecordingCommands commands;

    /** Records what the saga sends; refuses run starts when told to. */
    static final class RecordingCommands extends ScheduledRunCommands {
        final List<Object> sent = new ArrayList<>();
        BusinessError refuseStarts;

        RecordingCommands() {
            super(null);
        }

        @Override
        public Started start(ScheduleFired fire) {
            sent.add(fire.runId());
            if (refuseStarts != null) {
                throw new Refused(refuseStarts);
            }
            return Started.STARTED;
        }

        @Override
        public BusinessError send(Object command, OrgId org) {
            sent.add(command);
            return null;
        }
    }

    @BeforeEach
    void setUp() {
        fixture = new SagaTestFixture<>(ScheduledRunSaga.class);
        commands = new RecordingCommands();
        fixture.registerResource(commands);
    }

    @Test
    void aFireStartsItsRunAndWaitsForItsEnd() {
        fixture.givenNoPriorActivity()
                .whenPublishingA(FIRED)
                .expectActiveSagas(1)
                .expectAssociationWith("runId", RUN.value());
        assertThat(commands.sent).containsExactly(RUN);
    }

    @Test
    void aRunThatCannotStartIsReportedToItsScheduleAndEndsTheSaga() {
        commands.refuseStarts = BusinessError.of(ErrorCode.DEPLOYMENT_NOT_FOUND, "gone");
        fixture.givenNoPriorActivity()
                .whenPublishingA(FIRED)
                .expectActiveSagas(0);
        assertThat(commands.sent).containsExactly(RUN,
                new RecordScheduledRunEnded(SCHEDULE, RUN, null, "deployment_not_found"));
    }

    @Test
    void aFinishedRunIsReportedToItsScheduleAndEndsTheSaga() {
        fixture.givenAPublished(FIRED)
                .whenPublishingA(new RunFinished(RUN, RunStatus.SUCCEEDED, List.of()))
                .expectActiveSagas(0);
        assertThat(commands.sent).endsWith(new RecordScheduledRunEnded(SCHEDULE, RUN, RunStatus.SUCCEEDED, null));
    }

    @Test
    void aCancelRequestOfTheScheduleCancelsTheRunInItsOrganization() {
        fixture.givenAPublished(FIRED)
                .whenPublishingA(new ScheduledRunCancelRequested(SCHEDULE, RUN))
                .expectActiveSagas(1);
        assertThat(commands.sent).endsWith(new CancelRun(RUN, ACME));
    }

    @Test
    void theEndOfARunNoScheduleStartedChangesNothing() {
        fixture.givenAPublished(FIRED)
                .whenPublishingA(new RunFinished(new RunId("r-other"), RunStatus.SUCCEEDED, List.of()))
                .expectActiveSagas(1);
        assertThat(commands.sent).containsExactly(RUN);
    }
}
