package io.dagy.eventstore.events;

import java.time.Duration;

/**
 * Tuning of the DynamoDB event store.
 *
 * @param shards               independent position streams; an aggregate always lives in one (that of its first event,
 *                             kept when this grows). More shards raise the append ceiling (each takes about 1,000
 *                             counter writes/s on AWS) at the cost of one query per shard per poll. May grow, never
 *                             shrink, once events exist: the engine refuses to start with fewer than the table used
 * @param bucketSize           positions per stream partition
 * @param gapTimeout           how long a reader waits for a reserved position before fencing it
 * @param readBatchSize        events read per query
 * @param compressionThreshold payloads and metadata larger than this many bytes are stored gzip-compressed
 * @param appendAttempts       attempts of one append when readers fenced its positions or transactions conflicted
 */
public record EventStoreSettings(int shards, int bucketSize, Duration gapTimeout, int readBatchSize,
                                 int compressionThreshold, int appendAttempts) {

    /** Most shards an event store may have. */
    public static final int MAX_SHARDS = 256;

    public EventStoreSettings {
        if (shards < 1 || shards > MAX_SHARDS) {
            throw new IllegalArgumentException("shards must be 1.." + MAX_SHARDS + ": " + shards);
        }
        if (bucketSize < 100) {
            throw new IllegalArgumentException("bucketSize must be at least 100: " + bucketSize);
        }
        if (gapTimeout.isNegative() || gapTimeout.isZero()) {
            throw new IllegalArgumentException("gapTimeout must be positive: " + gapTimeout);
        }
        if (readBatchSize < 1 || compressionThreshold < 0 || appendAttempts < 1) {
            throw new IllegalArgumentException("readBatchSize, appendAttempts must be positive, compressionThreshold >= 0");
        }
    }

    public static EventStoreSettings defaults() {
        return new EventStoreSettings(4, 10_000, Duration.ofSeconds(2), 500, 8 * 1024, 10);
    }

    public EventStoreSettings withShards(int shards) {
        return new EventStoreSettings(shards, bucketSize, gapTimeout, readBatchSize, compressionThreshold, appendAttempts);
    }

    public EventStoreSettings withGapTimeout(Duration gapTimeout) {
        return new EventStoreSettings(shards, bucketSize, gapTimeout, readBatchSize, compressionThreshold, appendAttempts);
    }

    public EventStoreSettings withBucketSize(int bucketSize) {
        return new EventStoreSettings(shards, bucketSize, gapTimeout, readBatchSize, compressionThreshold, appendAttempts);
    }
}
