package io.dagy.eventstore.contract;

import io.dagy.eventstore.support.MutableClock;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.Segment;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.axonframework.eventhandling.tokenstore.UnableToInitializeTokenException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What Axon's {@code TokenStore} contract promises, written for Dagy from the cases of Axon's token-store tests
 * (JDBC, JPA and in-memory stores, 4.13.0). A store under test extends this class; each node is a store instance with
 * its own node id, sharing the storage and a clock the test moves.
 */
public abstract class TokenStoreContract {

    protected static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(10);
    private static final String PROCESSOR = "views";

    protected final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T06:00:00Z"));

    /** A store for one node on the shared storage, whose claims expire after {@link #CLAIM_TIMEOUT} by its clock. */
    protected abstract TokenStore store(String nodeId);

    /** The transaction manager the store's writes join. */
    protected abstract TransactionManager transactions();

    /** A token at the given position. */
    protected abstract TrackingToken token(long position);

    /** What the store hands out for a segment that holds no token. */
    protected abstract TrackingToken noToken();

    /**
     * Another write of the same unit of work as a token write, and whether it landed: a store whose writes join a
     * transaction must commit it with the token or not at all.
     */
    protected abstract void writeEffect(String name);

    protected abstract boolean effectLanded(String name);

    private TokenStore nodeA;
    private TokenStore nodeB;

    private TokenStore a() {
        return nodeA == null ? nodeA = store("node-a") : nodeA;
    }

    private TokenStore b() {
        return nodeB == null ? nodeB = store("node-b") : nodeB;
    }

    private void inTransaction(Runnable work) {
        transactions().executeInTransaction(work);
    }

    // ------------------------------------------------------------------------------------------ segments

    @Test
    void initializingCreatesEverySegmentAtTheInitialToken() {
        a().initializeTokenSegments(PROCESSOR, 7, token(10));

        assertThat(a().fetchSegments(PROCESSOR)).containsExactly(0, 1, 2, 3, 4, 5, 6);
        for (int segment = 0; segment < 7; segment++) {
            assertThat(a().fetchToken(PROCESSOR, segment)).isEqualTo(token(10));
        }
    }

    @Test
    void segmentsInitializedWithoutATokenHoldNone() {
        a().initializeTokenSegments(PROCESSOR, 2);

        assertThat(a().fetchToken(PROCESSOR, 1)).isEqualTo(noToken());
    }

    @Test
    void initializingAProcessorTwiceFailsAndChangesNothing() {
        a().initializeTokenSegments(PROCESSOR, 2, token(3));

        assertThatThrownBy(() -> b().initializeTokenSegments(PROCESSOR, 4)).isInstanceOf(UnableToClaimTokenException.class);
        assertThat(a().fetchSegments(PROCESSOR)).containsExactly(0, 1);
        assertThat(a().fetchToken(PROCESSOR, 0)).isEqualTo(token(3));
    }

    @Test
    void aSegmentThatWasNeverInitializedCannotBeClaimed() {
        assertThatThrownBy(() -> a().fetchToken(PROCESSOR, 1)).isInstanceOf(UnableToClaimTokenException.class);
    }

    @Test
    void segmentsAreListedPerProcessor() {
        a().initializeTokenSegments("proc1", 2);
        a().initializeTokenSegments("proc2", 3);

        assertThat(a().fetchSegments("proc1")).containsExactly(0, 1);
        assertThat(a().fetchSegments("proc2")).containsExactly(0, 1, 2);
        assertThat(a().fetchSegments("proc3")).isEmpty();
    }

    @Test
    void theStoreRequiresExplicitSegmentInitializationAndSplitsByInitializingASegment() {
        assertThat(a().requiresExplicitSegmentInitialization()).isTrue();
        a().initializeTokenSegments(PROCESSOR, 1, token(4));
        TrackingToken held = a().fetchToken(PROCESSOR, 0);

        inTransaction(() -> {
            a().initializeSegment(held, PROCESSOR, 1);
            a().releaseClaim(PROCESSOR, 0);
        });

        assertThat(a().fetchSegments(PROCESSOR)).containsExactly(0, 1);
        assertThat(b().fetchToken(PROCESSOR, 1)).isEqualTo(token(4));
        assertThatThrownBy(() -> inTransaction(() -> a().initializeSegment(token(9), PROCESSOR, 1)))
                .isInstanceOf(UnableToInitializeTokenException.class);
    }

    // ------------------------------------------------------------------------------------------ tokens

    @Test
    void aStoredTokenIsWhatTheNextClaimReturns() {
        a().initializeTokenSegments(PROCESSOR, 1);

        inTransaction(() -> {
            a().fetchToken(PROCESSOR, 0);
            a().storeToken(token(1), PROCESSOR, 0);
        });
        inTransaction(() -> {
            assertThat(a().fetchToken(PROCESSOR, 0)).isEqualTo(token(1));
            a().storeToken(token(2), PROCESSOR, 0);
        });

        assertThat(a().fetchToken(PROCESSOR, 0)).isEqualTo(token(2));
    }

    @Test
    void aTokenIsStoredOutsideATransactionToo() {
        a().initializeTokenSegments(PROCESSOR, 1);

        a().fetchToken(PROCESSOR, 0);
        a().storeToken(token(5), PROCESSOR, 0);

        a().releaseClaim(PROCESSOR, 0);
        assertThat(b().fetchToken(PROCESSOR, 0)).isEqualTo(token(5));
    }

    @Test
    void storingNoTokenResetsTheSegmentToHoldingNone() {
        a().initializeTokenSegments(PROCESSOR, 1, token(3));
        a().fetchToken(PROCESSOR, 0);

        a().storeToken(null, PROCESSOR, 0);

        assertThat(a().fetchToken(PROCESSOR, 0)).isEqualTo(noToken());
    }

    @Test
    void aTokenCommitsWithTheOtherWritesOfItsTransactionOrNotAtAll() {
        a().initializeTokenSegments(PROCESSOR, 1, token(0));
        a().fetchToken(PROCESSOR, 0);
        inTransaction(() -> {
            writeEffect("kept");
            a().storeToken(token(1), PROCESSOR, 0);
        });
        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        b().fetchToken(PROCESSOR, 0);

        assertThatThrownBy(() -> inTransaction(() -> {
            writeEffect("lost");
            a().storeToken(token(2), PROCESSOR, 0);
        })).isInstanceOf(UnableToClaimTokenException.class);

        assertThat(effectLanded("kept")).isTrue();
        assertThat(effectLanded("lost")).isFalse();
        b().releaseClaim(PROCESSOR, 0);
        assertThat(b().fetchToken(PROCESSOR, 0)).isEqualTo(token(1));
    }

    // ------------------------------------------------------------------------------------------ claims

    @Test
    void aClaimedSegmentCannotBeClaimedByAnotherNode() {
        a().initializeTokenSegments(PROCESSOR, 1);
        a().fetchToken(PROCESSOR, 0);

        assertThatThrownBy(() -> b().fetchToken(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);
        assertThatCode(() -> a().fetchToken(PROCESSOR, 0)).as("the owner claims again").doesNotThrowAnyException();
    }

    @Test
    void aReleasedSegmentCanBeClaimedByAnotherNode() {
        a().initializeTokenSegments(PROCESSOR, 1);
        inTransaction(() -> a().fetchToken(PROCESSOR, 0));
        inTransaction(() -> a().releaseClaim(PROCESSOR, 0));

        assertThat(b().fetchToken(PROCESSOR, 0)).isEqualTo(noToken());
    }

    @Test
    void anExpiredClaimCanBeTakenByAnotherNode() {
        a().initializeTokenSegments(PROCESSOR, 1);
        a().fetchToken(PROCESSOR, 0);
        clock.advance(CLAIM_TIMEOUT.minusSeconds(1));
        assertThatThrownBy(() -> b().fetchToken(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);

        clock.advance(Duration.ofSeconds(2));

        assertThatCode(() -> b().fetchToken(PROCESSOR, 0)).doesNotThrowAnyException();
    }

    @Test
    void anExtendedClaimDoesNotExpire() {
        a().initializeTokenSegments(PROCESSOR, 1);
        a().fetchToken(PROCESSOR, 0);
        clock.advance(CLAIM_TIMEOUT.minusSeconds(1));
        inTransaction(() -> a().extendClaim(PROCESSOR, 0));
        clock.advance(Duration.ofSeconds(2));

        assertThatThrownBy(() -> b().fetchToken(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);
    }

    @Test
    void aNodeWhoseClaimWasTakenCanNeitherStoreNorExtendButItsReleaseChangesNothing() {
        a().initializeTokenSegments(PROCESSOR, 1, token(0));
        a().fetchToken(PROCESSOR, 0);
        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        b().fetchToken(PROCESSOR, 0);

        assertThatThrownBy(() -> inTransaction(() -> a().storeToken(token(1), PROCESSOR, 0)))
                .isInstanceOf(UnableToClaimTokenException.class);
        assertThatThrownBy(() -> inTransaction(() -> a().extendClaim(PROCESSOR, 0)))
                .isInstanceOf(UnableToClaimTokenException.class);
        assertThatCode(() -> inTransaction(() -> a().releaseClaim(PROCESSOR, 0))).doesNotThrowAnyException();
        assertThatCode(() -> a().releaseClaim(PROCESSOR, 0)).doesNotThrowAnyException();

        inTransaction(() -> b().storeToken(token(2), PROCESSOR, 0));
        assertThatThrownBy(() -> a().fetchToken(PROCESSOR, 0)).as("node B still holds it")
                .isInstanceOf(UnableToClaimTokenException.class);
    }

    /** The defect of issue 16: such a release failed the whole commit and took the unit of work's writes with it. */
    @Test
    void releasingATakenSegmentInATransactionLeavesTheTransactionsOtherWritesToCommit() {
        a().initializeTokenSegments(PROCESSOR, 2, token(0));
        a().fetchToken(PROCESSOR, 0);
        a().fetchToken(PROCESSOR, 1);
        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        b().fetchToken(PROCESSOR, 0);
        a().extendClaim(PROCESSOR, 1);

        inTransaction(() -> {
            writeEffect("handled");
            a().storeToken(token(3), PROCESSOR, 1);
            a().releaseClaim(PROCESSOR, 0);
        });

        assertThat(effectLanded("handled")).isTrue();
        a().releaseClaim(PROCESSOR, 1);
        assertThat(b().fetchToken(PROCESSOR, 1)).isEqualTo(token(3));
        assertThatThrownBy(() -> a().fetchToken(PROCESSOR, 0)).as("node B still holds it")
                .isInstanceOf(UnableToClaimTokenException.class);
    }

    @Test
    void aTokenIsDeletedOnlyByTheNodeThatHoldsItsClaim() {
        a().initializeTokenSegments(PROCESSOR, 3);
        a().fetchToken(PROCESSOR, 0);
        a().fetchToken(PROCESSOR, 1);

        assertThatThrownBy(() -> a().deleteToken(PROCESSOR, 2)).as("not claimed")
                .isInstanceOf(UnableToClaimTokenException.class);
        assertThatThrownBy(() -> b().deleteToken(PROCESSOR, 1)).as("claimed by another node")
                .isInstanceOf(UnableToClaimTokenException.class);
        assertThatThrownBy(() -> a().deleteToken(PROCESSOR, 7)).as("never initialized")
                .isInstanceOf(UnableToClaimTokenException.class);
        a().deleteToken(PROCESSOR, 1);

        assertThat(a().fetchSegments(PROCESSOR)).containsExactly(0, 2);
    }

    // ------------------------------------------------------------------------------------------ available segments

    @Test
    void availableSegmentsAreTheUnclaimedTheExpiredAndTheNodesOwnWithTheirMasks() {
        a().initializeTokenSegments(PROCESSOR, 4);
        a().fetchToken(PROCESSOR, 0);
        b().fetchToken(PROCESSOR, 1);
        clock.advance(CLAIM_TIMEOUT.minusSeconds(1));
        b().fetchToken(PROCESSOR, 2);

        assertThat(ids(b().fetchAvailableSegments(PROCESSOR))).containsExactly(1, 2, 3);
        assertThat(ids(a().fetchAvailableSegments(PROCESSOR))).containsExactly(0, 3);
        clock.advance(Duration.ofSeconds(2));
        assertThat(ids(a().fetchAvailableSegments(PROCESSOR))).containsExactly(0, 1, 3);
        inTransaction(() -> b().releaseClaim(PROCESSOR, 2));
        assertThat(a().fetchAvailableSegments(PROCESSOR)).contains(Segment.computeSegment(2, 0, 1, 2, 3));
        assertThat(b().fetchAvailableSegments("unknown")).isEmpty();
    }

    private static List<Integer> ids(List<Segment> segments) {
        return segments.stream().map(Segment::getSegmentId).sorted().toList();
    }

    // ------------------------------------------------------------------------------------------ claims by segment

    @Test
    void aSegmentIsClaimedByItsMaskWhenTheMaskStillHolds() {
        a().initializeTokenSegments(PROCESSOR, 2, token(1));

        assertThat(a().fetchToken(PROCESSOR, Segment.computeSegment(1, 0, 1))).isEqualTo(token(1));
        assertThat(a().fetchToken(PROCESSOR, Segment.computeSegment(0, 0, 1))).isEqualTo(token(1));
    }

    @Test
    void aSegmentOfferedBeforeAMergeIsRefused() {
        a().initializeTokenSegments(PROCESSOR, 1);

        assertThatThrownBy(() -> a().fetchToken(PROCESSOR, Segment.computeSegment(0, 0, 1)))
                .isInstanceOf(UnableToClaimTokenException.class);
        assertThatThrownBy(() -> a().fetchToken(PROCESSOR, Segment.computeSegment(1, 0, 1)))
                .isInstanceOf(UnableToClaimTokenException.class);
        assertThatCode(() -> b().fetchToken(PROCESSOR, 0)).as("a refused claim is released")
                .doesNotThrowAnyException();
    }

    @Test
    void aSegmentOfferedBeforeASplitIsRefused() {
        a().initializeTokenSegments(PROCESSOR, 4);

        assertThatThrownBy(() -> a().fetchToken(PROCESSOR, Segment.computeSegment(1, 0, 1)))
                .isInstanceOf(UnableToClaimTokenException.class);
        assertThatThrownBy(() -> a().fetchToken(PROCESSOR, Segment.ROOT_SEGMENT))
                .isInstanceOf(UnableToClaimTokenException.class);
    }

    // ------------------------------------------------------------------------------------------ identifier

    @Test
    void theStorageIdentifierIsCreatedOnDemandAndTheSameForEveryNode() {
        var first = a().retrieveStorageIdentifier();

        assertThat(first).isPresent();
        assertThat(a().retrieveStorageIdentifier()).isEqualTo(first);
        assertThat(b().retrieveStorageIdentifier()).isEqualTo(first);
    }
}
