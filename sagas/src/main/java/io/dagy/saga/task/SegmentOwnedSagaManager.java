package io.dagy.saga.task;

import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.Segment;
import org.axonframework.modelling.saga.AnnotatedSagaManager;

/**
 * A saga manager whose sagas belong to the segment of their association value, not of their identifier. Axon's
 * default lets every segment of the saga processor look up the sagas of every event (an association query and a
 * token write per event per segment) and then keep those whose identifier hashes to it; here an event is handled only
 * by the segment its association value hashes to, which is also where its saga was created, at any number of
 * segments (a split or merge keeps value and saga together, where identifier and value could part).
 *
 * <p>Holds for sagas whose events all carry one association value ({@link TaskExecutionSaga}: its task run).
 * Sagas created under Axon's rule (an identifier in the association's segment when created) are found the same way.
 */
public final class SegmentOwnedSagaManager<T> extends AnnotatedSagaManager<T> {

    public SegmentOwnedSagaManager(AnnotatedSagaManager.Builder<T> builder) {
        super(builder);
    }

    @Override
    public boolean canHandle(EventMessage<?> event, Segment segment) {
        return super.canHandle(event, segment) && extractAssociationValues(event).stream().anyMatch(segment::matches);
    }

    /** The sagas an event's association finds are this segment's: {@link #canHandle} let only its events in. */
    @Override
    protected boolean matchesSegment(Segment segment, String sagaId) {
        return true;
    }
}
