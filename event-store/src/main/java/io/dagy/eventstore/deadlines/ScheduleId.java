package io.dagy.eventstore.deadlines;

import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A schedule id that locates every item of its deadline: {@code <triggerMillis>.<shard>.<scopeKey>.<uuid>}, for
 * example {@code 1767225600000.3.q83vEjE4cYl2BRzXz-3fEw.0b9a…}. The scope key is the (URL-safe, 22 character) hash
 * of the serialized scope, so the scope index item can be deleted without reading anything.
 *
 * @param triggerMillis the due time in epoch millis, clamped to what 15 digits hold
 * @param shard         the due partition, {@code floorMod(unique.hashCode(), SHARDS)}
 * @param scopeKey      see {@link DeadlineItems#scopeKey}
 * @param unique        a random UUID
 */
record ScheduleId(long triggerMillis, int shard, String scopeKey, String unique) {

    /** Number of due partitions. Part of the item layout: changing it orphans deadlines in dropped shards. */
    static final int SHARDS = 8;
    static final long MAX_MILLIS = 999_999_999_999_999L;

    private static final Pattern FORMAT = Pattern.compile("(\\d{1,15})\\.(\\d)\\.([A-Za-z0-9_-]{22})\\.([0-9a-f-]{36})");

    static ScheduleId create(long triggerMillis, String scopeKey) {
        String unique = UUID.randomUUID().toString();
        return new ScheduleId(Math.min(Math.max(triggerMillis, 0), MAX_MILLIS),
                Math.floorMod(unique.hashCode(), SHARDS), scopeKey, unique);
    }

    /** The id this manager handed out, or empty for anything else (a foreign or mangled id). */
    static Optional<ScheduleId> parse(String value) {
        Matcher m = FORMAT.matcher(value);
        if (!m.matches() || Integer.parseInt(m.group(2)) >= SHARDS) {
            return Optional.empty();
        }
        return Optional.of(new ScheduleId(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)), m.group(3),
                m.group(4)));
    }

    String value() {
        return triggerMillis + "." + shard + "." + scopeKey + "." + unique;
    }

    @Override
    public String toString() {
        return value();
    }
}
