package io.dagy.eventstore.deadletters;

import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.MessageHandlerInterceptor;

import java.util.Optional;

/**
 * Marks, before a processor hands an event of its batch to the handlers, what the batch's transaction holds; an
 * event that is then parked as a dead letter drops everything its handlers wrote after that mark
 * ({@link #discardEffectsOf}), while the rest of the batch commits. So a parked event leaves no half-written effect:
 * its handlers see it again, whole, when it is retried.
 */
public final class EventSavepoints {

    private static final Object KEY = new Object();

    private EventSavepoints() {
    }

    /** The event being handled, by which processor, and the transaction's writes before it. */
    private record Mark(String processor, String eventId, DynamoTransaction.Savepoint savepoint) {
    }

    private static final class Holder {
        private Mark mark;
    }

    /** A processor interceptor that marks each event of a batch; does nothing outside a DynamoDB transaction. */
    public static MessageHandlerInterceptor<EventMessage<?>> interceptor(String processor) {
        return (unitOfWork, chain) -> {
            DynamoTransactionManager.current().ifPresent(transaction -> transaction.resource(KEY, Holder::new).mark =
                    new Mark(processor, unitOfWork.getMessage().getIdentifier(), transaction.savepoint()));
            return chain.proceed();
        };
    }

    /**
     * Drops what the handlers of {@code event} wrote in the open transaction. False (and nothing dropped) when the
     * event was not marked in this transaction.
     */
    public static boolean discardEffectsOf(EventMessage<?> event) {
        Optional<Mark> mark = markOf(event);
        mark.ifPresent(m -> m.savepoint().transaction().rollbackTo(m.savepoint()));
        return mark.isPresent();
    }

    /** The processor handling {@code event} in the open transaction, if it was marked. */
    public static Optional<String> processorOf(EventMessage<?> event) {
        return markOf(event).map(Mark::processor);
    }

    private static Optional<Mark> markOf(EventMessage<?> event) {
        return DynamoTransactionManager.current()
                .map(transaction -> transaction.resource(KEY, Holder::new).mark)
                .filter(mark -> mark.eventId().equals(event.getIdentifier()));
    }
}
