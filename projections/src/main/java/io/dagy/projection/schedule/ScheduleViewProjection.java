package io.dagy.projection.schedule;

import io.dagy.contracts.schedule.ScheduleEvents.ScheduleCreated;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleDeleted;
import io.dagy.contracts.schedule.ScheduleEvents.SchedulePaused;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleUnpaused;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleUpdated;
import io.dagy.contracts.schedule.ScheduleId;
import io.dagy.contracts.schedule.ScheduleQueries.ScheduleSummary;
import io.dagy.eventstore.tx.DynamoWrites;
import io.dagy.eventstore.views.ViewItems;
import io.dagy.eventstore.views.ViewKeys;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The schedules of every deployment in {@code DAGY_SCHEDULES}, for listing: one item per schedule in its deployment's
 * partition ({@link ViewKeys#schedules}), sorted by schedule id. Only what a listing shows (spec, state, note); a
 * schedule's fires are read from the aggregate itself. Each item keeps the sequence number of the last event applied,
 * so a redelivered or replayed event changes nothing; a deleted schedule keeps a tombstone for the same reason.
 */
@ProcessingGroup(ScheduleViewProjection.PROCESSING_GROUP)
public class ScheduleViewProjection {

    public static final String PROCESSING_GROUP = "schedule-views";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;

    public ScheduleViewProjection(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
    }

    @EventHandler
    void on(ScheduleCreated event, @SequenceNumber long sequence) {
        write(event.scheduleId(), sequence, false, current -> new ScheduleSummary(event.scheduleId(), event.spec(),
                "active", null));
    }

    @EventHandler
    void on(ScheduleUpdated event, @SequenceNumber long sequence) {
        write(event.scheduleId(), sequence, false, current -> new ScheduleSummary(event.scheduleId(), event.spec(),
                current.state(), current.note()));
    }

    @EventHandler
    void on(SchedulePaused event, @SequenceNumber long sequence) {
        write(event.scheduleId(), sequence, false, current -> new ScheduleSummary(event.scheduleId(), current.spec(),
                "paused", event.note()));
    }

    @EventHandler
    void on(ScheduleUnpaused event, @SequenceNumber long sequence) {
        write(event.scheduleId(), sequence, false, current -> new ScheduleSummary(event.scheduleId(), current.spec(),
                "active", null));
    }

    @EventHandler
    void on(ScheduleDeleted event, @SequenceNumber long sequence) {
        write(event.scheduleId(), sequence, true, UnaryOperator.identity());
    }

    @ResetHandler
    void reset() {
        dynamoDb.scanPaginator(b -> b.tableName(table).consistentRead(true))
                .items().forEach(item -> dynamoDb.deleteItem(b -> b.tableName(table)
                        .key(Map.of("pk", item.get("pk"), "sk", item.get("sk")))));
    }

    private void write(ScheduleId id, long sequence, boolean deleted, UnaryOperator<ScheduleSummary> change) {
        Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromS(ViewKeys.schedules(id.org().value(),
                id.deployment().value())), "sk", AttributeValue.fromS(id.id()));
        Optional<Map<String, AttributeValue>> stored = DynamoWrites.get(dynamoDb, table, key);
        if (stored.isPresent() && Long.parseLong(stored.get().get("seq").n()) >= sequence) {
            return; // applied already
        }
        ScheduleSummary current = stored.filter(item -> !item.containsKey("deleted"))
                .<ScheduleSummary>map(item -> ViewItems.view(item, serializer)).orElse(null);
        ScheduleSummary next = current == null && !deleted ? change.apply(new ScheduleSummary(id, null, "active", null))
                : change.apply(current);
        Map<String, AttributeValue> item = ViewItems.item(key.get("pk").s(), id.id(),
                next == null ? new ScheduleSummary(id, null, "deleted", null) : next, serializer);
        item.put("seq", AttributeValue.fromN(Long.toString(sequence)));
        if (deleted) {
            item.put("deleted", AttributeValue.fromBool(true));
        }
        DynamoWrites.put(dynamoDb, table, item, ViewItems.key(item));
    }
}
