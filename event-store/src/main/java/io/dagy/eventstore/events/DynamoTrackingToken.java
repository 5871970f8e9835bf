package io.dagy.eventstore.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.axonframework.eventhandling.TrackingToken;

import java.io.Serializable;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * A position in the DynamoDB event stream: for each shard, the highest position up to which every position has been
 * resolved (delivered, or proven empty by a fence). It never holds gaps, so it stays one number per shard however many
 * gaps occur. A shard beyond the array's length is at position 0 (nothing read), which is how shards added later start.
 */
public final class DynamoTrackingToken implements TrackingToken, Serializable {

    private static final long serialVersionUID = 1L;

    private final long[] positions;

    @JsonCreator
    public DynamoTrackingToken(@JsonProperty("positions") long[] positions) {
        this.positions = positions.clone();
        for (long position : this.positions) {
            if (position < 0) {
                throw new IllegalArgumentException("negative position in " + Arrays.toString(positions));
            }
        }
    }

    /** The token before the first event of every shard. */
    public static DynamoTrackingToken tail(int shards) {
        return new DynamoTrackingToken(new long[shards]);
    }

    @JsonProperty("positions")
    public long[] positions() {
        return positions.clone();
    }

    /** The resolved position of a shard. */
    public long position(int shard) {
        return shard < positions.length ? positions[shard] : 0;
    }

    /** This token with one shard moved to {@code position}. */
    public DynamoTrackingToken advancedTo(int shard, long position) {
        long[] next = Arrays.copyOf(positions, Math.max(positions.length, shard + 1));
        next[shard] = position;
        return new DynamoTrackingToken(next);
    }

    @Override
    public TrackingToken lowerBound(TrackingToken other) {
        return combine(other, true);
    }

    @Override
    public TrackingToken upperBound(TrackingToken other) {
        return combine(other, false);
    }

    @Override
    public boolean covers(TrackingToken other) {
        if (other == null) {
            return true;
        }
        DynamoTrackingToken that = cast(other);
        int width = Math.max(positions.length, that.positions.length);
        for (int shard = 0; shard < width; shard++) {
            if (position(shard) < that.position(shard)) {
                return false;
            }
        }
        return true;
    }

    /** The number of resolved positions over all shards: an estimate of progress, used for status only. */
    @Override
    public OptionalLong position() {
        return OptionalLong.of(Arrays.stream(positions).sum());
    }

    private DynamoTrackingToken combine(TrackingToken other, boolean lower) {
        DynamoTrackingToken that = cast(other);
        int width = Math.max(positions.length, that.positions.length);
        long[] combined = new long[width];
        for (int shard = 0; shard < width; shard++) {
            combined[shard] = lower ? Math.min(position(shard), that.position(shard))
                    : Math.max(position(shard), that.position(shard));
        }
        return new DynamoTrackingToken(combined);
    }

    private static DynamoTrackingToken cast(TrackingToken other) {
        if (other instanceof DynamoTrackingToken token) {
            return token;
        }
        throw new IllegalArgumentException("cannot compare a DynamoTrackingToken with " + other);
    }

    /** Equal when every shard is at the same position (trailing zero shards do not matter). */
    @Override
    public boolean equals(Object o) {
        return o instanceof DynamoTrackingToken that && covers(that) && that.covers(this);
    }

    @Override
    public int hashCode() {
        int last = positions.length;
        while (last > 0 && positions[last - 1] == 0) {
            last--;
        }
        return Arrays.hashCode(Arrays.copyOf(positions, last));
    }

    @Override
    public String toString() {
        return "DynamoTrackingToken" + Arrays.toString(positions);
    }
}
