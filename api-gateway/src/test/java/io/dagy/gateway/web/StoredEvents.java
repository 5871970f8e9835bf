package io.dagy.gateway.web;

import io.dagy.contracts.run.RunEvents.RunStarted;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;

import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What the event store holds, read from it directly: the read models lag, so a check that nothing was stored must not
 * ask them.
 */
final class StoredEvents {

    private StoredEvents() {
    }

    /** Every event of a type, from the start of the store, in store order. */
    static <T> List<T> all(EventStorageEngine events, Class<T> type) {
        return all(events, Set.of(type)).stream().map(type::cast).toList();
    }

    /** Every event of the types, from the start of the store, in store order: one pass over the store. */
    static List<Object> all(EventStorageEngine events, Set<Class<?>> types) {
        try (var stream = events.readEvents(null, false)) {
            return stream.filter(event -> types.contains(event.getPayloadType()))
                    .<Object>map(TrackedEventMessage::getPayload).toList();
        }
    }

    /** The runs started of the deployments the predicate accepts. */
    static List<RunStarted> runsStarted(EventStorageEngine events, Predicate<String> deployment) {
        return all(events, RunStarted.class).stream().filter(run -> deployment.test(run.deployment().value())).toList();
    }
}
