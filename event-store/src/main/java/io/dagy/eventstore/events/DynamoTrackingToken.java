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
 *
 * <p>Two positions are often incomparable (ahead on one shard, behind on another), and Axon's pooled processor serves
 * segments at different positions from one stream. So the lower bound of two different positions is not a position but
 * a {@link DynamoStreamStart} that keeps both, and a stream from it first brings each of them up to their upper bound
 * with {@link DynamoCatchUpToken steps} that only the segments standing exactly there take: {@link #covers} a step
 * means "this step does not start here". See {@code docs/event-store.md}, "Segments at different positions".
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

    /**
     * Where one stream serving a segment at this position and one at {@code other} must start: this position if both
     * are the same, else a {@link DynamoStreamStart} that keeps every position it serves (not the per-shard minimum,
     * from which a segment ahead on some shard could not tell which events it has handled).
     */
    @Override
    public TrackingToken lowerBound(TrackingToken other) {
        if (this.equals(other)) {
            return this;
        }
        return DynamoStreamStart.serving(this, other);
    }

    /** Per shard the higher position: the position after both. */
    @Override
    public TrackingToken upperBound(TrackingToken other) {
        return perShardMax(DynamoStreamStart.highestOf(other));
    }

    /**
     * Whether a segment standing here has no use for {@code other}'s event. For a position: it covers it on every
     * shard. For a {@link DynamoCatchUpToken catch-up step}: the step does not start exactly here (catch-up steps are
     * meant for the segments standing where they start; every other segment skips them).
     */
    @Override
    public boolean covers(TrackingToken other) {
        if (other == null) {
            return true;
        }
        if (other instanceof DynamoCatchUpToken step) {
            return !this.equals(step.before());
        }
        DynamoTrackingToken that = DynamoStreamStart.lowestOf(other);
        int width = Math.max(positions.length, that.positions.length);
        for (int shard = 0; shard < width; shard++) {
            if (position(shard) < that.position(shard)) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code other} stands for the same position (a catch-up step: the position after it). */
    @Override
    public boolean samePositionAs(TrackingToken other) {
        return other != null && this.equals(DynamoStreamStart.lowestOf(other));
    }

    /** Per shard the lower of the two positions. */
    public DynamoTrackingToken perShardMin(DynamoTrackingToken other) {
        return combine(other, true);
    }

    /** Per shard the higher of the two positions. */
    public DynamoTrackingToken perShardMax(DynamoTrackingToken other) {
        return combine(other, false);
    }

    /** The number of resolved positions over all shards: an estimate of progress, used for status only. */
    @Override
    public OptionalLong position() {
        return OptionalLong.of(Arrays.stream(positions).sum());
    }

    private DynamoTrackingToken combine(DynamoTrackingToken that, boolean lower) {
        int width = Math.max(positions.length, that.positions.length);
        long[] combined = new long[width];
        for (int shard = 0; shard < width; shard++) {
            combined[shard] = lower ? Math.min(position(shard), that.position(shard))
                    : Math.max(position(shard), that.position(shard));
        }
        return new DynamoTrackingToken(combined);
    }

    /** The number of shards this token names a position for (shards beyond are at 0). */
    int width() {
        return positions.length;
    }

    /** Equal when every shard is at the same position (trailing zero shards do not matter). */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DynamoTrackingToken that)) {
            return false;
        }
        int width = Math.max(positions.length, that.positions.length);
        for (int shard = 0; shard < width; shard++) {
            if (position(shard) != that.position(shard)) {
                return false;
            }
        }
        return true;
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
