package io.dagy.saga.schedule;

import io.dagy.contracts.run.RunCommands.CancelRun;
import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.schedule.ScheduleCommands.RecordScheduledRunEnded;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFired;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduledRunCancelRequested;
import io.dagy.contracts.schedule.ScheduleId;
import org.axonframework.modelling.saga.EndSaga;
import org.axonframework.modelling.saga.SagaEventHandler;
import org.axonframework.modelling.saga.SagaLifecycle;
import org.axonframework.modelling.saga.StartSaga;
import org.axonframework.spring.stereotype.Saga;

/**
 * One run a schedule fired: starts it (as the schedule), cancels it when the schedule's overlap policy asks, and tells
 * the schedule when it has ended, so the schedule knows what still runs. The run id comes from the fire, so a
 * redelivered fire starts nothing twice. Its fields are data only; every path ends the saga.
 */
@Saga
public class ScheduledRunSaga {

    private ScheduleId scheduleId;
    private RunId runId;

    @StartSaga
    @SagaEventHandler(associationProperty = "runId")
    void on(ScheduleFired fire, ScheduledRunCommands commands) {
        scheduleId = fire.scheduleId();
        runId = fire.runId();
        try {
            commands.start(fire);
        } catch (ScheduledRunCommands.Refused refused) {
            // the run cannot start (its deployment is gone, its params refused): the schedule must not wait for it
            commands.send(new RecordScheduledRunEnded(scheduleId, runId, null, refused.error().code().code()),
                    scheduleId.org());
            SagaLifecycle.end();
        }
    }

    @SagaEventHandler(associationProperty = "runId")
    void on(ScheduledRunCancelRequested cancel, ScheduledRunCommands commands) {
        commands.send(new CancelRun(runId, scheduleId.org()), scheduleId.org()); // a finished run stays as it is
    }

    @EndSaga
    @SagaEventHandler(associationProperty = "runId")
    void on(RunFinished finished, ScheduledRunCommands commands) {
        commands.send(new RecordScheduledRunEnded(scheduleId, runId, finished.status(), null), scheduleId.org());
    }
}
