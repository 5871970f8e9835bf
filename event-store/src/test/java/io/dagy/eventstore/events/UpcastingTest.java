package io.dagy.eventstore.events;

import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.serialization.Revision;
import org.axonframework.serialization.SimpleSerializedType;
import org.axonframework.serialization.upcasting.event.EventUpcasterChain;
import org.axonframework.serialization.upcasting.event.IntermediateEventRepresentation;
import org.axonframework.serialization.upcasting.event.SingleEventUpcaster;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Events stored in an old shape are read in the new one through an upcaster, on both read paths. */
class UpcastingTest {

    /** The event as it was first published: no revision. */
    record TaskNoted(String taskId) {
    }

    /** Its revision 1, which added the step. */
    @Revision("1")
    record TaskNotedWithStep(String taskId, int step) {
    }

    /** Revision null of TaskNoted becomes revision 1 of TaskNotedWithStep, with step 0. */
    static final class AddStep extends SingleEventUpcaster {
        private static final SimpleSerializedType OLD = new SimpleSerializedType(TaskNoted.class.getName(), null);

        @Override
        protected boolean canUpcast(IntermediateEventRepresentation representation) {
            return OLD.equals(representation.getType());
        }

        @Override
        protected IntermediateEventRepresentation doUpcast(IntermediateEventRepresentation representation) {
            return representation.upcastPayload(new SimpleSerializedType(TaskNotedWithStep.class.getName(), "1"),
                    ObjectNode.class, node -> node.put("step", 0));
        }
    }

    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS);

    private DynamoEventStorageEngine.Builder engine() {
        return DynamoEventStorageEngine.builder()
                .dynamoDb(TestTables.dynamoDb())
                .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                .eventSerializer(TestSerializer.jackson())
                .snapshotSerializer(TestSerializer.jackson());
    }

    @Test
    void anEventOfAnOldRevisionIsReadAsTheNewOne() {
        engine().build().appendEvents(List.of(new GenericDomainEventMessage<>("Task", "task-1", 0, new TaskNoted("task-1"))));

        DynamoEventStorageEngine upcasting = engine().upcasterChain(new EventUpcasterChain(new AddStep())).build();

        assertThat(upcasting.readEvents("task-1").next().getPayload()).isEqualTo(new TaskNotedWithStep("task-1", 0));
        try (var tracked = upcasting.readEvents(null, false)) {
            assertThat(tracked.map(e -> (Object) e.getPayload()).toList()).containsExactly(new TaskNotedWithStep("task-1", 0));
        }
    }
}
