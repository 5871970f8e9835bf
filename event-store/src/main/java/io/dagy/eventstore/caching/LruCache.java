package io.dagy.eventstore.caching;

import org.axonframework.common.Registration;
import org.axonframework.common.caching.Cache;

import java.lang.ref.SoftReference;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * A bounded in-memory cache for Axon's caching repositories: the least recently used entry goes when it is full.
 * Axon ships weak-reference caches (cleared by any garbage collection, so nearly empty under load) and adapters for
 * Ehcache and JCache; an aggregate cache needs neither a provider nor expiry, only a bound.
 * <p>
 * A cached aggregate is safe across nodes: one that another node changed meanwhile fails its append on the sequence
 * number, the unit of work rolls back, Axon evicts the entry, and the retried command loads it afresh.
 */
public final class LruCache implements Cache {

    private final Map<Object, Object> entries;
    private final boolean soft;
    private final CopyOnWriteArrayList<EntryListener> listeners = new CopyOnWriteArrayList<>();

    public LruCache(int maxEntries) {
        this(maxEntries, false);
    }

    /**
     * A cache whose values the garbage collector may clear when the heap runs short (soft references): for values
     * whose size varies a lot, such as runs of ten or ten thousand tasks, so a bound by count that fits the usual
     * ones cannot exhaust the heap with large ones. A cleared value is a miss, like an evicted one.
     */
    public static LruCache softValues(int maxEntries) {
        return new LruCache(maxEntries, true);
    }

    private LruCache(int maxEntries, boolean soft) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be positive");
        }
        this.soft = soft;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Object, Object> eldest) {
                boolean full = size() > maxEntries;
                if (full) {
                    listeners.forEach(listener -> listener.onEntryExpired(eldest.getKey()));
                }
                return full;
            }
        };
    }

    private Object wrap(Object value) {
        return soft ? new SoftReference<>(value) : value;
    }

    /** The value of {@code key}, or null; a value the collector cleared is removed as expired. */
    private Object value(Object key) {
        Object stored = entries.get(key);
        if (!(stored instanceof SoftReference<?> reference)) {
            return stored;
        }
        Object value = reference.get();
        if (value == null) {
            entries.remove(key);
            listeners.forEach(listener -> listener.onEntryExpired(key));
        }
        return value;
    }

    @Override
    @SuppressWarnings("unchecked")
    public synchronized <K, V> V get(K key) {
        Object value = value(key);
        if (value != null) {
            listeners.forEach(listener -> listener.onEntryRead(key, value));
        }
        return (V) value;
    }

    @Override
    public synchronized void put(Object key, Object value) {
        boolean updated = entries.put(key, wrap(value)) != null;
        listeners.forEach(listener -> {
            if (updated) {
                listener.onEntryUpdated(key, value);
            } else {
                listener.onEntryCreated(key, value);
            }
        });
    }

    @Override
    public synchronized boolean putIfAbsent(Object key, Object value) {
        if (value(key) != null) {
            return false;
        }
        put(key, value);
        return true;
    }

    @Override
    public synchronized boolean remove(Object key) {
        boolean removed = entries.remove(key) != null;
        if (removed) {
            listeners.forEach(listener -> listener.onEntryRemoved(key));
        }
        return removed;
    }

    @Override
    public synchronized void removeAll() {
        entries.keySet().forEach(key -> listeners.forEach(listener -> listener.onEntryRemoved(key)));
        entries.clear();
    }

    @Override
    public synchronized boolean containsKey(Object key) {
        return value(key) != null;
    }

    @Override
    public synchronized <V> void computeIfPresent(Object key, UnaryOperator<V> update) {
        @SuppressWarnings("unchecked")
        V current = (V) value(key);
        if (current != null) {
            V next = update.apply(current);
            if (next == null) {
                remove(key);
            } else {
                put(key, next);
            }
        }
    }

    public synchronized int size() {
        return entries.size();
    }

    @Override
    public Registration registerCacheEntryListener(EntryListener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }
}
