package io.dagy.saga.run;

import io.dagy.contracts.run.RunEvents.TasksReady;
import io.dagy.contracts.run.TaskRunEvents.TaskRunFinished;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.async.SequencingPolicy;
import org.axonframework.eventhandling.async.SequentialPerAggregatePolicy;

/**
 * Events about one run, whether from the run or from its task runs, go to one segment in order; so outcomes of a
 * run's tasks reach the run one at a time instead of racing for its aggregate.
 */
public final class RunSequencingPolicy implements SequencingPolicy<EventMessage<?>> {

    @Override
    public Object getSequenceIdentifierFor(EventMessage<?> event) {
        Object payload = event.getPayload();
        if (payload instanceof TasksReady ready) {
            return ready.runId().value();
        }
        if (payload instanceof io.dagy.contracts.run.RunEvents.RunCancelling cancelling) {
            return cancelling.runId().value();
        }
        if (payload instanceof TaskRunFinished finished) {
            return finished.runId().value();
        }
        return SequentialPerAggregatePolicy.instance().getSequenceIdentifierFor(event);
    }
}
