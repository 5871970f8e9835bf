package io.dagy.eventstore.events;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shard of the newest event this engine has read or written, per aggregate, for the most recently used
 * aggregates. An append takes the shard of the aggregate's previous event from here when this engine saw exactly that
 * event (a command handler loads the aggregate, or checks a cached one's version, just before appending), so keeping an
 * aggregate in its shard costs no read on that path. Entries are facts about stored events and never go stale.
 */
final class KnownShards {

    private record Known(long sequence, int shard) {
    }

    private final Map<String, Known> entries;

    KnownShards(int maxEntries) {
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Known> eldest) {
                return size() > maxEntries;
            }
        };
    }

    /** Records that the aggregate's event at {@code sequence} is in {@code shard}; a newer record is kept. */
    synchronized void saw(String aggregateId, long sequence, int shard) {
        entries.merge(aggregateId, new Known(sequence, shard),
                (current, seen) -> seen.sequence() >= current.sequence() ? seen : current);
    }

    /** The shard of the aggregate's event at {@code sequence}, if that is the newest event recorded; else null. */
    synchronized Integer shardAt(String aggregateId, long sequence) {
        Known known = entries.get(aggregateId);
        return known != null && known.sequence() == sequence ? known.shard() : null;
    }
}
