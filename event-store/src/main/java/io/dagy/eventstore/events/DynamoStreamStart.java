package io.dagy.eventstore.events;

import org.axonframework.eventhandling.TrackingToken;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Where one stream for segments at different positions starts: every position it serves. Axon's pooled processor
 * computes it as the {@link TrackingToken#lowerBound lower bound} of its segments' tokens (and of the token its stream
 * last delivered, when it claims a segment while streaming), and opens its one stream from it.
 *
 * <p>A per-shard minimum would lose what a segment ahead on some shard has handled: the stream's tokens would not be
 * covered by its own and it would take them as its position, handling that shard again (positions [4,1] and [1,4]
 * start at [1,1]; the event at [2,2] was taken by the segment at [4,1], which then handled shard 0's positions 3 and 4
 * again). From a start the engine reads instead, for each position, the events between it and the upper bound of all
 * of them, as {@link DynamoCatchUpToken catch-up steps} that only segments standing exactly where a step starts take;
 * then, from the upper bound, the plain stream that every segment takes.
 *
 * <p>As a token it stands for its lowest position per shard ({@link #covers}, {@link #samePositionAs},
 * {@link #position}), which is what Axon's {@code ReplayToken} asks of a lower bound. It is never stored: the token
 * store keeps positions only.
 */
public final class DynamoStreamStart implements TrackingToken, Serializable {

    private static final long serialVersionUID = 1L;

    /** The order lanes are read in: fewest positions first, then by shard. Any fixed order is correct. */
    static final Comparator<DynamoTrackingToken> ORDER = Comparator
            .comparingLong((DynamoTrackingToken token) -> token.position().orElse(0))
            .thenComparing(DynamoStreamStart::compareByShard);

    private final List<DynamoTrackingToken> positions;

    private DynamoStreamStart(List<DynamoTrackingToken> positions) {
        this.positions = List.copyOf(positions);
    }

    /**
     * The start of a stream serving the positions of {@code first} and {@code second} (each a position, a start or a
     * catch-up step): a plain position if they are all the same.
     */
    static TrackingToken serving(TrackingToken first, TrackingToken second) {
        Set<DynamoTrackingToken> served = new LinkedHashSet<>(positionsServedBy(first));
        served.addAll(positionsServedBy(second));
        return of(served);
    }

    static TrackingToken of(Collection<DynamoTrackingToken> served) {
        List<DynamoTrackingToken> distinct = new ArrayList<>(new LinkedHashSet<>(served));
        if (distinct.size() == 1) {
            return distinct.get(0);
        }
        if (distinct.isEmpty()) {
            throw new IllegalArgumentException("a stream serves at least one position");
        }
        distinct.sort(ORDER);
        return new DynamoStreamStart(distinct);
    }

    /**
     * The positions of segments a stream from {@code token} must serve, in reading order: its own for a position (the
     * tail for null); every one for a start; for a catch-up step, every position a segment of its stream can stand at
     * after it (see {@link DynamoCatchUpToken#positionsAfter()}).
     */
    static List<DynamoTrackingToken> positionsServedBy(TrackingToken token) {
        if (token == null) {
            return List.of(DynamoTrackingToken.tail(0));
        }
        if (token instanceof DynamoTrackingToken position) {
            return List.of(position);
        }
        if (token instanceof DynamoStreamStart start) {
            return start.positions;
        }
        if (token instanceof DynamoCatchUpToken step) {
            List<DynamoTrackingToken> after = new ArrayList<>(new LinkedHashSet<>(step.positionsAfter()));
            after.sort(ORDER);
            return after;
        }
        throw new IllegalArgumentException("this event store reads from DynamoTrackingTokens, not " + token);
    }

    /** The single position {@code token} stands for when compared as a lower bound: per shard its lowest. */
    static DynamoTrackingToken lowestOf(TrackingToken token) {
        if (token instanceof DynamoCatchUpToken step) {
            return step.after();
        }
        return positionsServedBy(token).stream().reduce(DynamoTrackingToken::perShardMin).orElseThrow();
    }

    /** Per shard the highest position {@code token} stands for. */
    static DynamoTrackingToken highestOf(TrackingToken token) {
        if (token instanceof DynamoCatchUpToken step) {
            return step.after();
        }
        return positionsServedBy(token).stream().reduce(DynamoTrackingToken::perShardMax).orElseThrow();
    }

    /** The positions this stream serves, in the order their lanes are read. */
    public List<DynamoTrackingToken> positions() {
        return positions;
    }

    /** Per shard the lowest position served. */
    public DynamoTrackingToken lowest() {
        return lowestOf(this);
    }

    /** Per shard the highest position served: where the catch-up ends and the plain stream begins. */
    public DynamoTrackingToken highest() {
        return highestOf(this);
    }

    @Override
    public TrackingToken lowerBound(TrackingToken other) {
        if (positions.containsAll(positionsServedBy(other))) {
            return this;
        }
        return serving(this, other);
    }

    @Override
    public TrackingToken upperBound(TrackingToken other) {
        return highest().perShardMax(highestOf(other));
    }

    @Override
    public boolean covers(TrackingToken other) {
        return lowest().covers(other == null ? null : lowestOf(other));
    }

    @Override
    public boolean samePositionAs(TrackingToken other) {
        return lowest().samePositionAs(other);
    }

    @Override
    public OptionalLong position() {
        return lowest().position();
    }

    private static int compareByShard(DynamoTrackingToken a, DynamoTrackingToken b) {
        int width = Math.max(a.width(), b.width());
        for (int shard = 0; shard < width; shard++) {
            int order = Long.compare(a.position(shard), b.position(shard));
            if (order != 0) {
                return order;
            }
        }
        return 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DynamoStreamStart that && positions.equals(that.positions);
    }

    @Override
    public int hashCode() {
        return positions.hashCode();
    }

    @Override
    public String toString() {
        return "DynamoStreamStart" + positions;
    }
}
