package io.dagy.saga.task;

import io.dagy.eventstore.sagas.DynamoSagaStore;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.Segment;
import org.axonframework.modelling.saga.AnnotatedSagaManager;
import org.axonframework.modelling.saga.AssociationValue;

import java.util.function.Predicate;

/**
 * A saga manager whose sagas belong to the segment of their association value, not of their identifier, and whose
 * identifier is derived from that value. Axon's default lets every segment of the saga processor look up the sagas of
 * every event (an association query and a token write per event per segment) and then keep those whose identifier
 * hashes to it; here an event is handled only by the segment its association value hashes to, which is also where its
 * saga was created, at any number of segments (a split or merge keeps value and saga together, where identifier and
 * value could part).
 *
 * <p>A saga is created with the identifier {@link DynamoSagaStore#keyedId} gives its initial association, so a store
 * that keys the type ({@link DynamoSagaStore#keyBy}) finds it without a query (decision 81). Two nodes that ever
 * started the same saga would collide on that identifier instead of running two.
 *
 * <p>Holds for sagas whose events all carry one association value ({@link TaskExecutionSaga}: its task run).
 * Sagas created under Axon's rule (an identifier in the association's segment when created) are found the same way.
 */
public final class SegmentOwnedSagaManager<T> extends AnnotatedSagaManager<T> {

    /** The event being handled on this thread, whose initial association names a saga it starts. */
    private final ThreadLocal<EventMessage<?>> handling = new ThreadLocal<>();

    private final DynamoSagaStore store;
    private final Predicate<EventMessage<?>> startsItsSaga;

    public SegmentOwnedSagaManager(AnnotatedSagaManager.Builder<T> builder) {
        this(builder, null, event -> false);
    }

    /**
     * @param store         the store of the sagas, told which saga an event starts
     * @param startsItsSaga the events that only ever come first to their saga (with the saga's creation policy): the
     *                      saga they start is presumed absent, its load asks nothing ({@link DynamoSagaStore#presumingNew})
     */
    public SegmentOwnedSagaManager(AnnotatedSagaManager.Builder<T> builder, DynamoSagaStore store,
                                   Predicate<EventMessage<?>> startsItsSaga) {
        super(builder);
        this.store = store;
        this.startsItsSaga = startsItsSaga;
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

    @Override
    public void handle(EventMessage<?> event, Segment segment) throws Exception {
        handling.set(event);
        try {
            AssociationValue initial = store == null || !startsItsSaga.test(event) ? null
                    : getSagaCreationPolicy(event).getInitialAssociationValue();
            if (initial == null) {
                super.handle(event, segment);
            } else {
                store.presumingNew(DynamoSagaStore.keyedId(getSagaType(), initial), () -> super.handle(event, segment));
            }
        } finally {
            handling.remove();
        }
    }

    @Override
    protected String createSagaIdentifier(Segment segment) {
        EventMessage<?> event = handling.get();
        AssociationValue initial = event == null ? null : getSagaCreationPolicy(event).getInitialAssociationValue();
        return initial == null ? super.createSagaIdentifier(segment) : DynamoSagaStore.keyedId(getSagaType(), initial);
    }
}
