package io.dagy.saga.task;

import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.Segment;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import io.dagy.eventstore.sagas.DynamoSagaStore;
import org.axonframework.modelling.saga.AnnotatedSagaManager;
import org.axonframework.modelling.saga.AssociationValue;
import org.axonframework.modelling.saga.SagaEventHandler;
import org.axonframework.modelling.saga.StartSaga;
import org.axonframework.modelling.saga.repository.AnnotatedSagaRepository;
import org.axonframework.modelling.saga.repository.inmemory.InMemorySagaStore;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each event is handled by exactly one segment, the one of its association value, and a saga stays with its value when
 * segments split (Axon's own rule asks every segment to look every event up, and ties a saga to its identifier).
 */
class SegmentOwnedSagaManagerTest {

    static final AtomicInteger HANDLED = new AtomicInteger();

    public record Started(String key) {
    }

    public record Happened(String key) {
    }

    public static class CountingSaga {
        @StartSaga
        @SagaEventHandler(associationProperty = "key")
        public void on(Started event) {
            HANDLED.incrementAndGet();
        }

        @SagaEventHandler(associationProperty = "key")
        public void on(Happened event) {
            HANDLED.incrementAndGet();
        }
    }

    private final InMemorySagaStore store = new InMemorySagaStore();
    private final SegmentOwnedSagaManager<CountingSaga> manager = new SegmentOwnedSagaManager<>(
            AnnotatedSagaManager.<CountingSaga>builder().sagaType(CountingSaga.class)
                    .sagaRepository(AnnotatedSagaRepository.<CountingSaga>builder().sagaType(CountingSaga.class)
                            .sagaStore(store).build()));

    private static List<Segment> segments(int count) {
        return Arrays.asList(Segment.splitBalanced(Segment.ROOT_SEGMENT, count - 1).toArray(Segment[]::new));
    }

    private void deliver(EventMessage<?> event, List<Segment> segments) throws Exception {
        for (Segment segment : segments) {
            if (manager.canHandle(event, segment)) {
                DefaultUnitOfWork.startAndGet(event).executeWithResult(() -> {
                    manager.handle(event, segment);
                    return null;
                });
            }
        }
    }

    @Test
    void eachEventIsLookedAtByOneSegmentOnly() {
        List<Segment> four = segments(4);
        IntStream.range(0, 50).mapToObj(i -> "r-1/task-" + i).forEach(key -> {
            EventMessage<?> event = GenericEventMessage.asEventMessage(new Happened(key));
            assertThat(four.stream().filter(segment -> manager.canHandle(event, segment))).hasSize(1);
        });
    }

    @Test
    void aSagaStartedAtTwoSegmentsIsFoundAfterASplitToEight() throws Exception {
        HANDLED.set(0);
        List<String> keys = IntStream.range(0, 40).mapToObj(i -> "r-2/task-" + i).toList();
        for (String key : keys) {
            deliver(GenericEventMessage.asEventMessage(new Started(key)), segments(2));
        }
        assertThat(HANDLED.get()).isEqualTo(keys.size());

        for (String key : keys) {
            deliver(GenericEventMessage.asEventMessage(new Happened(key)), segments(8));
        }

        assertThat(HANDLED.get()).isEqualTo(2 * keys.size());
        assertThat(store.size()).isEqualTo(keys.size()); // no saga was started twice
    }

    /** A saga's identifier is derived from the association it starts with, so a keyed store finds it unasked. */
    @Test
    void aSagaIsCreatedUnderTheIdentifierOfItsAssociation() throws Exception {
        deliver(GenericEventMessage.asEventMessage(new Started("r-3/extract")), segments(4));

        assertThat(store.findSagas(CountingSaga.class, new AssociationValue("key", "r-3/extract")))
                .containsExactly(DynamoSagaStore.keyedId(CountingSaga.class, new AssociationValue("key", "r-3/extract")))
                .containsExactly("CountingSaga:r-3/extract");
    }
}
