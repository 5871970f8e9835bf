package io.dagy.eventstore.support;

import io.dagy.eventstore.events.DynamoTrackingToken;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.async.SequencingPolicy;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.messaging.MetaData;

import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Events placed where a test wants them: in a chosen shard (the engine puts a plain event in the shard of its id, so
 * the id is drawn until it lands there), in a chosen segment (processors sequence them by {@link Keyed#key()}, and
 * Axon's {@code Segment.matches} takes an {@code Integer}'s own value), at a chosen timestamp (a reader merges shards
 * by timestamp, so timestamps decide the order in which a stream interleaves the shards).
 */
public final class PlacedEvents {

    private PlacedEvents() {
    }

    /** The payload of a placed event: {@code key} decides its segment. */
    public record Keyed(int key, String label) {
    }

    /** Where an event landed: its shard and its position in that shard. */
    public record Place(int shard, long position) {
    }

    /** Sequences events by their key, so a test decides which segment handles which event. */
    public static SequencingPolicy<EventMessage<?>> byKey() {
        return event -> ((Keyed) event.getPayload()).key();
    }

    public static EventMessage<Keyed> event(int shard, int shards, int key, Instant timestamp, String label) {
        String id;
        do {
            id = UUID.randomUUID().toString();
        } while (Math.floorMod(id.hashCode(), shards) != shard);
        return new GenericEventMessage<>(id, new Keyed(key, label), MetaData.emptyInstance(), timestamp);
    }

    /** Every stored event's place, read back from the store by following tokens from the tail, by event id. */
    public static Map<String, Place> places(EventStorageEngine engine) {
        Map<String, Place> places = new HashMap<>();
        DynamoTrackingToken previous = new DynamoTrackingToken(new long[0]);
        try (Stream<? extends TrackedEventMessage<?>> stream = engine.readEvents(null, false)) {
            Iterator<? extends TrackedEventMessage<?>> events = stream.iterator();
            while (events.hasNext()) {
                TrackedEventMessage<?> event = events.next();
                DynamoTrackingToken token = (DynamoTrackingToken) event.trackingToken();
                int shard = 0;
                while (token.position(shard) == previous.position(shard)) {
                    shard++;
                }
                places.put(event.getIdentifier(), new Place(shard, token.position(shard)));
                previous = token;
            }
        }
        return places;
    }
}
