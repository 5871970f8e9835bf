package io.dagy.eventstore.events;

import org.axonframework.eventhandling.MergedTrackingToken;
import org.axonframework.eventhandling.ReplayToken;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.WrappedToken;

import java.util.Objects;

/**
 * What a segment's token is stored as, and handed to a processor as: the position its segment has handled, never more.
 * A pooled processor serves all its segments from one stream starting at the lower bound of their positions (see
 * {@link DynamoStreamStart}); that only works if each position is known, so:
 * <ul>
 *   <li>a {@link DynamoCatchUpToken} becomes the position after it, a {@link DynamoStreamStart} its lowest;</li>
 *   <li>no token means the tail (Axon would open a stream from "no token" and forget the positions of the segments it
 *       serves with it); a {@link ReplayToken} without a current position replays from the tail;</li>
 *   <li>a {@link MergedTrackingToken} becomes, per shard, the lower position of its halves. Axon's pooled processor
 *       filters the events of a merged segment by segment only, not per half, so the half that was ahead sees the
 *       events between the two positions again, as it would with the merged token; but a merged token holds two
 *       positions, and a segment must stand at one for its stream to serve it exactly from there on.</li>
 * </ul>
 * Tokens of other kinds are returned as they are.
 */
public final class StoredTokens {

    private StoredTokens() {
    }

    public static TrackingToken canonical(TrackingToken token) {
        if (token == null) {
            return DynamoTrackingToken.tail(0);
        }
        if (token instanceof DynamoTrackingToken) {
            return token;
        }
        if (token instanceof DynamoCatchUpToken step) {
            return step.after();
        }
        if (token instanceof DynamoStreamStart start) {
            return start.lowest();
        }
        if (token instanceof ReplayToken replay) {
            TrackingToken current = canonical(replay.getCurrentToken());
            if (Objects.equals(current, replay.getCurrentToken())) {
                return replay;
            }
            return ReplayToken.createReplayToken(replay.getTokenAtReset(), current, replay.context());
        }
        if (token instanceof MergedTrackingToken merged) {
            return merged(canonical(merged.lowerSegmentToken()), canonical(merged.upperSegmentToken()));
        }
        return token;
    }

    /** One position for two merged halves: per shard the lower; a replay if either half was replaying. */
    private static TrackingToken merged(TrackingToken lower, TrackingToken upper) {
        if (!(WrappedToken.unwrapLowerBound(lower) instanceof DynamoTrackingToken lowerPosition)
                || !(WrappedToken.unwrapLowerBound(upper) instanceof DynamoTrackingToken upperPosition)) {
            return MergedTrackingToken.merged(lower, upper); // not ours: leave it to Axon
        }
        DynamoTrackingToken position = lowerPosition.perShardMin(upperPosition);
        ReplayToken lowerReplay = lower instanceof ReplayToken replay ? replay : null;
        ReplayToken upperReplay = upper instanceof ReplayToken replay ? replay : null;
        if (lowerReplay == null && upperReplay == null) {
            return position;
        }
        TrackingToken reset = resetOf(lower, lowerReplay).upperBound(resetOf(upper, upperReplay));
        Object context = lowerReplay != null ? lowerReplay.context() : upperReplay.context();
        return ReplayToken.createReplayToken(reset, position, context);
    }

    /** Up to where a half replays: its reset position, or its own position if it is not replaying. */
    private static TrackingToken resetOf(TrackingToken half, ReplayToken replay) {
        return replay != null ? replay.getTokenAtReset() : half;
    }
}
