package io.dagy.eventstore.events;

import org.axonframework.eventhandling.MergedTrackingToken;
import org.axonframework.eventhandling.ReplayToken;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.WrappedToken;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StoredTokensTest {

    private static DynamoTrackingToken token(long... positions) {
        return new DynamoTrackingToken(positions);
    }

    @Test
    void tokensOfAStreamAreStoredAsThePositionTheyStandFor() {
        var plan = DynamoCatchUpToken.Plan.serving(List.of(token(1, 4), token(4, 1)));
        var step = new DynamoCatchUpToken(plan, 0, token(2, 4), token(3, 4), List.of());

        assertThat(StoredTokens.canonical(step)).isEqualTo(token(3, 4));
        assertThat(StoredTokens.canonical(token(4, 1).lowerBound(token(1, 4)))).isEqualTo(token(1, 1));
        assertThat(StoredTokens.canonical(token(2, 2))).isEqualTo(token(2, 2));
    }

    @Test
    void noPositionIsTheTailAlsoInAReplay() {
        assertThat(StoredTokens.canonical(null)).isEqualTo(DynamoTrackingToken.tail(2));
        TrackingToken replay = StoredTokens.canonical(ReplayToken.createReplayToken(token(5, 5)));

        assertThat(replay).isInstanceOf(ReplayToken.class);
        assertThat(((ReplayToken) replay).getTokenAtReset()).isEqualTo(token(5, 5));
        assertThat(WrappedToken.unwrapLowerBound(replay)).isEqualTo(DynamoTrackingToken.tail(0));
        assertThat(ReplayToken.isReplay(replay)).isTrue();
    }

    @Test
    void aMergeStandsAtTheLowerPositionOfItsHalvesAndReplaysIfEitherHalfDid() {
        assertThat(StoredTokens.canonical(MergedTrackingToken.merged(token(4, 1), token(1, 4)))).isEqualTo(token(1, 1));

        TrackingToken replaying = StoredTokens.canonical(MergedTrackingToken.merged(
                ReplayToken.createReplayToken(token(9, 9), token(3, 2)), token(6, 1)));
        assertThat(replaying).isInstanceOf(ReplayToken.class);
        assertThat(WrappedToken.unwrapLowerBound(replaying)).isEqualTo(token(3, 1));
        assertThat(((ReplayToken) replaying).getTokenAtReset()).isEqualTo(token(9, 9));
    }

    @Test
    void aStepCoversEveryOtherStepButTheOneStartingWhereItEnds() {
        var plan = DynamoCatchUpToken.Plan.serving(List.of(token(1, 4), token(4, 1)));
        var first = new DynamoCatchUpToken(plan, 0, token(1, 4), token(2, 4), List.of());
        var second = new DynamoCatchUpToken(plan, 0, token(2, 4), token(3, 4), List.of());
        var otherLane = new DynamoCatchUpToken(plan, 1, token(4, 1), token(4, 2), List.of());

        assertThat(token(1, 4).covers(first)).isFalse();
        assertThat(token(4, 1).covers(first)).isTrue();
        assertThat(first.covers(second)).isFalse();
        assertThat(first.covers(otherLane)).isTrue();
        assertThat(token(4, 1).covers(otherLane)).isFalse();
        // as a position (for Axon's replay logic and status) a step is where it ends
        assertThat(first.covers(token(2, 3))).isTrue();
        assertThat(first.samePositionAs(token(2, 4))).isTrue();
        assertThat(WrappedToken.unwrapLowerBound(second)).isEqualTo(token(3, 4));
        // a stream reopened from a step serves the lanes to come, the upper bound and where this lane stands
        assertThat(DynamoStreamStart.positionsServedBy(second))
                .containsExactlyInAnyOrder(token(3, 4), token(4, 1), token(4, 4));
    }
}
