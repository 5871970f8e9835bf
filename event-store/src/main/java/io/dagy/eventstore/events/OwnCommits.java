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
 */
final class OwnCommits {

    /** Items larger than this are not kept (a fan-out's events, compressed): their readers query them. */
    private static final int MAX_ITEM_BYTES = 32 * 1024;

    private final int perShard;
    private final List<ConcurrentSkipListMap<Long, Map<String, AttributeValue>>> shards = new ArrayList<>();

    /** @param perShard how many recent positions per shard are kept */
    OwnCommits(int shards, int perShard) {
        this.perShard = perShard;
        for (int shard = 0; shard < shards; shard++) {
            this.shards.add(new ConcurrentSkipListMap<>());
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
}
