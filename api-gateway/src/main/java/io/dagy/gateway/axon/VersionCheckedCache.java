package io.dagy.gateway.axon;

import org.axonframework.common.Registration;
import org.axonframework.common.caching.Cache;
import org.axonframework.eventsourcing.AggregateCacheEntry;
import org.axonframework.eventsourcing.EventSourcedAggregate;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.modelling.command.ConcurrencyException;

import java.lang.reflect.Field;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * An aggregate cache that lets no decision stand on state another node has moved on. A command that appends events
 * needs no check: the store refuses an append at a sequence number that exists ({@code ConcurrencyException}), the
 * unit of work rolls back, Axon's caching repository evicts the aggregate and the command gateway retries on a fresh
 * load. A command that appends nothing has no such guard (an outcome for a run this node still thinks finished would be
 * dropped silently), so for it the cached version is compared with the last sequence number in the event store (one
 * small query) before its unit of work commits; a stale one fails it the same way, to be retried. So the usual command,
 * which appends, costs no read at all; outside a unit of work the check is made at once.
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
            Long cached = versionOf(entry);
            if (CurrentUnitOfWork.isStarted()) {
                CurrentUnitOfWork.get().onPrepareCommit(unitOfWork -> {
                    if (Objects.equals(versionOf(entry), cached) && !isCurrent(key, cached)) {
                        delegate.remove(key);
                        throw new ConcurrencyException("aggregate " + key + " was changed by another node since it was"
                                + " cached; the command is handled again on its current state");
                    }
                });
            } else if (!isCurrent(key, cached)) {
                delegate.remove(key);
                return null;
            }
        }
        return value;
    }

    private boolean isCurrent(Object key, Long version) {
        Optional<Long> last = eventStore.get().lastSequenceNumberFor(key.toString());
        return last.isPresent() && Objects.equals(last.get(), version);
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
