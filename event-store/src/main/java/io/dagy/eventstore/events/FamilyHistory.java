package io.dagy.eventstore.events;

import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventsourcing.EventStreamUtils;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.upcasting.event.EventUpcaster;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static io.dagy.eventstore.events.EventItems.AGGREGATE;
import static io.dagy.eventstore.events.EventItems.FENCE;
import static io.dagy.eventstore.events.EventItems.POSITION;
import static io.dagy.eventstore.events.EventItems.SHARD;
import static io.dagy.eventstore.events.EventItems.SK;
import static io.dagy.eventstore.events.EventItems.longOf;
import static io.dagy.eventstore.events.EventItems.n;
import static io.dagy.eventstore.events.EventItems.s;

/**
 * The history of a family of aggregates: a root aggregate and the aggregates placed in its shard under ids
 * {@code <root>/<part>} (a run and its task runs), in the order they were written. They share one shard, so their
 * positions are one order; the history is read from the shard's stream items, starting at the root's first event, and
 * keeps the family's events. It reads only what is stored: it stops before the first position that is reserved but holds
 * neither an event nor a fence (an append in flight, or one the processors will fence after the gap timeout), so a
 * reader that continues after the last position it was given never misses an event of the family. It writes nothing
 * (fences are the processors' job).
 *
 * <p>Cost: a page reads the shard's positions in order, the family's and everyone else's, so a page of a family that
 * shares its shard with busy neighbours examines more items than it returns; {@code maxExamined} bounds that per call.
 */
public final class FamilyHistory {

    /** Where a family lives: its shard and the position of its root's first event, and that event. */
    public record Origin(int shard, long firstPosition, DomainEventMessage<?> firstEvent) {
    }

    /** An event of the family at its position in the shard. */
    public record Placed(long position, DomainEventMessage<?> event) {
    }

    /**
     * Events of the family after a position. {@code resolved} is the last position examined (every position up to it
     * was read: continue after it); {@code atEnd} says the read stopped at the end of what is stored (the shard's
     * head or an append in flight) rather than at the page's limits.
     */
    public record Page(List<Placed> events, long resolved, boolean atEnd) {
        public Page {
            events = List.copyOf(events);
        }
    }

    private static final int QUERY_LIMIT = 200;

    private final DynamoDbClient dynamoDb;
    private final String eventsTable;
    private final int bucketSize;
    private final Serializer serializer;
    private final EventUpcaster upcasters;

    public FamilyHistory(DynamoDbClient dynamoDb, String eventsTable, EventStoreSettings settings, Serializer serializer,
                         EventUpcaster upcasters) {
        this.dynamoDb = dynamoDb;
        this.eventsTable = eventsTable;
        this.bucketSize = settings.bucketSize();
        this.serializer = serializer;
        this.upcasters = upcasters;
    }

    /** The shard and first position of a root aggregate, from its first aggregate item; empty if it has no events. */
    public Optional<Origin> origin(String rootId) {
        var items = dynamoDb.query(b -> b.tableName(eventsTable).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s("agg#" + rootId))).limit(1).consistentRead(true)).items();
        if (items.isEmpty() || !items.get(0).containsKey(POSITION)) {
            return Optional.empty();
        }
        Map<String, AttributeValue> first = items.get(0);
        long position = longOf(first, POSITION);
        return Optional.of(new Origin(Integer.parseInt(first.get(SHARD).n()), position, placed(first, position).event()));
    }

    /** The root aggregate's own events (not its family's) with their positions, in sequence order. */
    public List<Placed> rootEvents(String rootId) {
        List<Placed> events = new ArrayList<>();
        dynamoDb.queryPaginator(b -> b.tableName(eventsTable).keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", s("agg#" + rootId))).consistentRead(true))
                .items().forEach(item -> events.add(placed(item, longOf(item, POSITION))));
        return events;
    }

    /** The root aggregate's last event with its position (one item read). */
    public Optional<Placed> lastRootEvent(String rootId) {
        var items = dynamoDb.query(b -> b.tableName(eventsTable).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s("agg#" + rootId))).scanIndexForward(false).limit(1)
                .consistentRead(true)).items();
        return items.isEmpty() ? Optional.empty() : Optional.of(placed(items.get(0), longOf(items.get(0), POSITION)));
    }

    /**
     * Up to {@code limit} events of the family at positions after {@code after} (at least the origin's first position
     * minus one), examining at most {@code maxExamined} positions.
     */
    public Page read(String rootId, Origin origin, long after, int limit, int maxExamined) {
        long expected = Math.max(after, origin.firstPosition() - 1) + 1;
        List<Placed> events = new ArrayList<>();
        int examined = 0;
        while (events.size() < limit && examined < maxExamined) {
            long from = expected;
            int queryLimit = Math.min(QUERY_LIMIT, maxExamined - examined);
            QueryResponse response = dynamoDb.query(b -> b.tableName(eventsTable)
                    .keyConditionExpression("pk = :pk AND sk >= :from")
                    .expressionAttributeValues(Map.of(":pk", s(streamKey(origin.shard(), from)), ":from", n(from)))
                    .consistentRead(true).limit(queryLimit));
            boolean advanced = false;
            for (Map<String, AttributeValue> item : response.items()) {
                long position = longOf(item, SK);
                if (position != expected) {
                    return new Page(events, expected - 1, true); // a reserved position not written yet
                }
                examined++;
                expected++;
                advanced = true;
                if (!item.containsKey(FENCE) && inFamily(item, rootId)) {
                    events.add(placed(item, position));
                    if (events.size() >= limit) {
                        return new Page(events, position, false);
                    }
                }
            }
            if (!advanced) {
                // the next position is not in its bucket: the shard's head, or an append in flight (a later item
                // came first). A bucket that ends is no stop: the next query asks the next bucket.
                return new Page(events, expected - 1, true);
            }
        }
        return new Page(events, expected - 1, false);
    }

    private static boolean inFamily(Map<String, AttributeValue> item, String rootId) {
        AttributeValue aggregate = item.get(AGGREGATE);
        if (aggregate == null) {
            return false;
        }
        String id = aggregate.s();
        return id.equals(rootId) || (id.startsWith(rootId) && id.charAt(rootId.length()) == '/');
    }

    private Placed placed(Map<String, AttributeValue> item, long position) {
        DomainEventMessage<?> event = EventStreamUtils.upcastAndDeserializeDomainEvents(
                Stream.of(EventItems.entry(item)), serializer, upcasters).next();
        return new Placed(position, event);
    }

    private String streamKey(int shard, long position) {
        return "stream#" + shard + "#" + position / bucketSize;
    }
}
