package io.dagy.gateway.axon;

import org.axonframework.common.Registration;
import org.axonframework.common.caching.Cache;
import org.axonframework.eventsourcing.AggregateCacheEntry;
import org.axonframework.eventsourcing.EventSourcedAggregate;
import org.axonframework.eventsourcing.eventstore.EventStore;

import java.lang.reflect.Field;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * An aggregate cache that hands out an aggregate only while it is current: on every hit it compares the cached
 * version with the last sequence number in the event store (one small query) and evicts a stale entry, so the
 * repository loads the aggregate afresh. Without the check, a node would decide on state that another node has moved
 * on: a command that appends nothing (an outcome for a run this node still thinks finished) would be dropped
 * silently, with no conflict to reveal it. Still far cheaper than a load, which replays every event since the last
 * snapshot.
 * <p>
 * Axon's {@link AggregateCacheEntry} does not expose its version; it is read by reflection, and
 * {@code VersionCheckedCacheTest} fails if an Axon upgrade renames the fields.
 */
final class VersionCheckedCache implements Cache {

    private static final Field AGGREGATE = field("aggregate");
    private static final Field VERSION = field("version");

    private final Cache delegate;
    private final Supplier<EventStore> eventStore;

    VersionCheckedCache(Cache delegate, Supplier<EventStore> eventStore) {
        this.delegate = delegate;
        this.eventStore = eventStore;
    }

    @Override
    public <K, V> V get(K key) {
        V value = delegate.get(key);
        if (value instanceof AggregateCacheEntry<?> entry) {
            Optional<Long> last = eventStore.get().lastSequenceNumberFor(key.toString());
            if (last.isEmpty() || !Objects.equals(last.get(), versionOf(entry))) {
                delegate.remove(key);
                return null;
            }
        }
        return value;
    }

    static Long versionOf(AggregateCacheEntry<?> entry) {
        try {
            Object aggregate = AGGREGATE.get(entry);
            return aggregate instanceof EventSourcedAggregate<?> live ? live.version() : (Long) VERSION.get(entry);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read the version of a cached aggregate", e);
        }
    }

    private static Field field(String name) {
        try {
            Field field = AggregateCacheEntry.class.getDeclaredField(name);
            field.setAccessible(true);
            return field;
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("Axon's AggregateCacheEntry has no field '" + name + "' any more", e);
        }
    }

    @Override
    public void put(Object key, Object value) {
        delegate.put(key, value);
    }

    @Override
    public boolean putIfAbsent(Object key, Object value) {
        return delegate.putIfAbsent(key, value);
    }

    @Override
    public boolean remove(Object key) {
        return delegate.remove(key);
    }

    @Override
    public void removeAll() {
        delegate.removeAll();
    }

    @Override
    public boolean containsKey(Object key) {
        return delegate.containsKey(key);
    }

    @Override
    public Registration registerCacheEntryListener(EntryListener listener) {
        return delegate.registerCacheEntryListener(listener);
    }
}
