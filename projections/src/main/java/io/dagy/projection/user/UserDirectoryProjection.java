package io.dagy.projection.user;

import io.dagy.contracts.user.UserEvents.UserDeleted;
import io.dagy.contracts.user.UserEvents.UserRegistered;
import io.dagy.contracts.user.UserEvents.UserUpdated;
import io.dagy.contracts.user.UserId;
import io.dagy.contracts.user.UserView;
import io.dagy.eventstore.tx.DynamoWrites;
import io.dagy.eventstore.views.ViewItems;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.Map;

/**
 * The users of {@code DAGY_USERS}: one item per user, {@code pk = "user#<provider id>"}, {@code sk = "user"}, holding
 * the {@link UserView}, a {@code deleted} flag (read alone by {@link UserDirectory}) and the sequence number of the
 * last event applied; an event at or below it is skipped, so redeliveries and replays are harmless. Every event
 * carries the whole profile, so each write replaces the item. A deleted user's item keeps only the id and the flag.
 */
@ProcessingGroup(UserDirectoryProjection.PROCESSING_GROUP)
public class UserDirectoryProjection {

    public static final String PROCESSING_GROUP = "user-directory";
    /** Every user item's partition key starts with this; other items of {@code DAGY_USERS} must not. */
    static final String PARTITION_PREFIX = "user#";
    static final String SORT_KEY = "user";
    static final String DELETED = "deleted";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;

    public UserDirectoryProjection(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
    }

    static Map<String, AttributeValue> key(String providerUserId) {
        return Map.of("pk", AttributeValue.fromS(PARTITION_PREFIX + providerUserId), "sk", AttributeValue.fromS(SORT_KEY));
    }

    @EventHandler
    void on(UserRegistered event, @SequenceNumber long sequence) {
        write(new UserView(event.userId(), event.primaryEmail(), event.name(), false), sequence);
    }

    @EventHandler
    void on(UserUpdated event, @SequenceNumber long sequence) {
        write(new UserView(event.userId(), event.primaryEmail(), event.name(), false), sequence);
    }

    @EventHandler
    void on(UserDeleted event, @SequenceNumber long sequence) {
        write(new UserView(event.userId(), null, null, true), sequence);
    }

    @ResetHandler
    void reset() {
        dynamoDb.scanPaginator(b -> b.tableName(table)
                        .filterExpression("begins_with(pk, :prefix)")
                        .expressionAttributeValues(Map.of(":prefix", AttributeValue.fromS(PARTITION_PREFIX)))
                        .projectionExpression("pk, sk"))
                .items().forEach(item -> dynamoDb.deleteItem(b -> b.tableName(table)
                        .key(Map.of("pk", item.get("pk"), "sk", item.get("sk")))));
    }

    private void write(UserView view, long sequence) {
        UserId id = view.userId();
        if (alreadyApplied(id, sequence)) {
            return;
        }
        Map<String, AttributeValue> item = ViewItems.item(PARTITION_PREFIX + id.value(), SORT_KEY, view, serializer);
        item.put(DELETED, AttributeValue.fromBool(view.deleted()));
        item.put("seq", AttributeValue.fromN(Long.toString(sequence)));
        DynamoWrites.put(dynamoDb, table, item, ViewItems.key(item));
    }

    /** Whether the stored item already reflects this event of the user (a redelivery or an old replay). */
    private boolean alreadyApplied(UserId id, long sequence) {
        return DynamoWrites.get(dynamoDb, table, key(id.value()))
                .filter(item -> item.containsKey("seq") && Long.parseLong(item.get("seq").n()) >= sequence)
                .isPresent();
    }
}
