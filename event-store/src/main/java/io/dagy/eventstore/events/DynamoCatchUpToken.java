package io.dagy.eventstore.events;

import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.WrappedToken;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The token of an event read while a stream from a {@link DynamoStreamStart} brings the positions it serves up to their
 * upper bound: one step, from {@link #before()} to {@link #after()}, over one event.
 *
 * <p>The stream reads one lane per served position, one after the other: the events between that position and the
 * upper bound, shard by shard in position order, each as a step. A segment takes a step only if it stands exactly where
 * the step starts (a position {@link DynamoTrackingToken#covers covers} every other step, and so does a step, through
 * its {@code after}); it then stands at {@code after}. Along a lane, every step starts where the previous one ended, so
 * a segment follows its lane to the end; the last step of a lane ends at the upper bound, taking in the fences after
 * the lane's last event. A segment standing where a step of another lane starts may take that one instead: it needs the
 * same events, since a step's position has handled exactly the events at or below it. So each segment handles exactly
 * the events its position does not cover, each once; all stand at the upper bound (or at a position that differs from
 * it by fences only) when the plain stream from it begins.
 *
 * <p>It wraps its {@code after} position for Axon ({@link WrappedToken}): a replay token, a processor's status and the
 * token store see a plain position. The token store stores {@code after}.
 */
public final class DynamoCatchUpToken implements WrappedToken, Serializable {

    private static final long serialVersionUID = 1L;

    private final Plan plan;
    private final int lane;
    private final DynamoTrackingToken before;
    private final DynamoTrackingToken after;
    /** The starts of the lanes before this one that had no event: their segments still stand there. */
    private final List<DynamoTrackingToken> emptyLanesBefore;

    DynamoCatchUpToken(Plan plan, int lane, DynamoTrackingToken before, DynamoTrackingToken after,
                       List<DynamoTrackingToken> emptyLanesBefore) {
        this.plan = Objects.requireNonNull(plan);
        this.lane = lane;
        this.before = Objects.requireNonNull(before);
        this.after = Objects.requireNonNull(after);
        this.emptyLanesBefore = List.copyOf(emptyLanesBefore);
    }

    /**
     * What a catch-up stream reads: one lane from each of {@code lanes} (in this order) to {@code upper}, their
     * per-shard maximum.
     */
    record Plan(List<DynamoTrackingToken> lanes, DynamoTrackingToken upper) implements Serializable {
        Plan {
            lanes = List.copyOf(lanes);
        }

        static Plan serving(List<DynamoTrackingToken> lanes) {
            return new Plan(lanes, lanes.stream().reduce(DynamoTrackingToken::perShardMax).orElseThrow());
        }
    }

    /** The position a segment stands at when this step is for it. */
    public DynamoTrackingToken before() {
        return before;
    }

    /** The position a segment that took this step stands at: its event and everything before it in its lane. */
    public DynamoTrackingToken after() {
        return after;
    }

    /**
     * Every position a segment served by this token's stream can stand at once the stream has delivered this step: the
     * upper bound (where the lanes read so far ended, and where a segment that took a step of them stands), the start
     * of each of those lanes that had no event, this step's {@code after} (the segments of this lane, and those that
     * joined it), and the start of each lane still to come. A stream reopened from this step serves these.
     */
    List<DynamoTrackingToken> positionsAfter() {
        List<DynamoTrackingToken> positions = new ArrayList<>(emptyLanesBefore);
        positions.add(plan.upper());
        positions.add(after);
        positions.addAll(plan.lanes().subList(lane + 1, plan.lanes().size()));
        return positions;
    }

    /**
     * Whether a segment that took this step has no use for {@code other}'s event: another step that does not start at
     * {@code after}, or a position {@code after} covers.
     */
    @Override
    public boolean covers(TrackingToken other) {
        if (other == null) {
            return true;
        }
        if (other instanceof DynamoCatchUpToken step) {
            return !after.equals(step.before);
        }
        return after.covers(other);
    }

    @Override
    public boolean samePositionAs(TrackingToken other) {
        return after.samePositionAs(other);
    }

    /** Where a stream serving this step's segments and {@code other}'s must start (this step if it serves them all). */
    @Override
    public TrackingToken lowerBound(TrackingToken other) {
        if (positionsAfter().containsAll(DynamoStreamStart.positionsServedBy(other))) {
            return this;
        }
        return DynamoStreamStart.serving(this, other);
    }

    @Override
    public TrackingToken upperBound(TrackingToken other) {
        return after.upperBound(other);
    }

    @Override
    public OptionalLong position() {
        return after.position();
    }

    /** A segment's next token replaces this one, as for a plain position. */
    @Override
    public TrackingToken advancedTo(TrackingToken newToken) {
        return newToken;
    }

    @Override
    public TrackingToken lowerBound() {
        return after;
    }

    @Override
    public TrackingToken upperBound() {
        return after;
    }

    @Override
    public <R extends TrackingToken> Optional<R> unwrap(Class<R> tokenType) {
        if (tokenType.isInstance(this)) {
            return Optional.of(tokenType.cast(this));
        }
        return tokenType.isInstance(after) ? Optional.of(tokenType.cast(after)) : Optional.empty();
    }

    /** Equal: the same step of the same lane of the same plan (an upcaster may turn one event into several). */
    @Override
    public boolean equals(Object o) {
        return o instanceof DynamoCatchUpToken that && lane == that.lane && before.equals(that.before)
                && after.equals(that.after) && plan.equals(that.plan);
    }

    @Override
    public int hashCode() {
        return Objects.hash(lane, before, after);
    }

    @Override
    public String toString() {
        return "DynamoCatchUpToken{lane " + lane + " from " + plan.lanes().get(lane) + ": " + before + " -> " + after
                + ", up to " + plan.upper() + "}";
    }
}
