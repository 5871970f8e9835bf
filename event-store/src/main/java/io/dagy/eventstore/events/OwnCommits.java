package io.dagy.eventstore.events;

import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The stream items an engine committed lately, per shard and position, exactly as it wrote them, so that its own
 * readers take them from memory instead of querying them back (decision 91). The table stays the truth: only a
 * position this engine wrote (and DynamoDB accepted) is here, so a reader takes a run of them only where it begins right
 * after the reader's position; any other position (another node's event, a fence, a gap) is read from the table.
 * It also knows the positions this engine reserved and is writing now: a reader that finds its next position among
 * them waits for the write instead of querying a gap that is certain to be there (decision 100).
 */
final class OwnCommits {

    /** Items larger than this are not kept (a fan-out's events, compressed): their readers query them. */
    private static final int MAX_ITEM_BYTES = 32 * 1024;

    private final int perShard;
    private final List<ConcurrentSkipListMap<Long, Map<String, AttributeValue>>> shards = new ArrayList<>();
    /** Per shard, the ranges of positions this engine is writing: first position to the write in flight. */
    private final List<ConcurrentSkipListMap<Long, Writing>> writing = new ArrayList<>();

    /** Positions {@code first..last} reserved by a write that began at {@code startedNanos}. */
    private record Writing(long last, long startedNanos) {
    }

    /** @param perShard how many recent positions per shard are kept */
    OwnCommits(int shards, int perShard) {
        this.perShard = perShard;
        for (int shard = 0; shard < shards; shard++) {
            this.shards.add(new ConcurrentSkipListMap<>());
            this.writing.add(new ConcurrentSkipListMap<>());
        }
    }

    /** An item this engine's transaction wrote at {@code position}, once DynamoDB accepted it. */
    void committed(int shard, long position, Map<String, AttributeValue> item, long approximateBytes) {
        if (shard >= shards.size() || approximateBytes > MAX_ITEM_BYTES) {
            return;
        }
        ConcurrentSkipListMap<Long, Map<String, AttributeValue>> kept = shards.get(shard);
        kept.put(position, item);
        kept.headMap(position - perShard).clear();
    }

    /** Whether this engine's item at {@code position} is kept. */
    boolean has(int shard, long position) {
        return shard < shards.size() && shards.get(shard).containsKey(position);
    }

    /** The items at {@code after + 1}, {@code after + 2}, ... as long as each was committed here; at most {@code limit}. */
    List<Map<String, AttributeValue>> following(int shard, long after, int limit) {
        if (shard >= shards.size()) {
            return List.of();
        }
        ConcurrentSkipListMap<Long, Map<String, AttributeValue>> kept = shards.get(shard);
        List<Map<String, AttributeValue>> run = new ArrayList<>();
        for (long position = after + 1; run.size() < limit; position++) {
            Map<String, AttributeValue> item = kept.get(position);
            if (item == null) {
                break;
            }
            run.add(item);
        }
        return run;
    }

    /** This engine reserved {@code first .. first + count - 1} and is about to write them. */
    void writing(int shard, long first, int count) {
        if (shard < writing.size()) {
            writing.get(shard).put(first, new Writing(first + count - 1, System.nanoTime()));
        }
    }

    /**
     * The write of the positions from {@code first} is settled: its items are kept (call {@link #committed} first),
     * fenced, or of unknown outcome. Readers read those positions from the table from now on.
     */
    void settled(int shard, long first) {
        if (shard < writing.size()) {
            writing.get(shard).remove(first);
        }
    }

    /**
     * When this engine began writing {@code position} ({@link System#nanoTime}), if it is writing it now: a reader
     * that finds the position missing counts the gap timeout from then, as another node's reader would from when it
     * first saw the gap.
     */
    java.util.OptionalLong writingSince(int shard, long position) {
        if (shard >= writing.size()) {
            return java.util.OptionalLong.empty();
        }
        Map.Entry<Long, Writing> range = writing.get(shard).floorEntry(position);
        return range != null && range.getValue().last() >= position
                ? java.util.OptionalLong.of(range.getValue().startedNanos()) : java.util.OptionalLong.empty();
    }

    /**
     * Whether {@code position} is one this engine is writing now, for less than {@code maxNanos}: its reader would
     * only find a gap there. Past {@code maxNanos} (the gap timeout) the reader reads as usual, and may fence it.
     */
    boolean beingWritten(int shard, long position, long maxNanos) {
        var since = writingSince(shard, position);
        return since.isPresent() && System.nanoTime() - since.getAsLong() < maxNanos;
    }
}
