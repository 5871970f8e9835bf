package io.dagy.eventstore.tokens;

import io.dagy.eventstore.events.DynamoTrackingToken;
import io.dagy.eventstore.support.MutableClock;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.eventhandling.MergedTrackingToken;
import org.axonframework.eventhandling.ReplayToken;
import org.axonframework.eventhandling.Segment;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.WrappedToken;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.axonframework.eventhandling.tokenstore.UnableToInitializeTokenException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DynamoTokenStoreTest {

    private static final String PROCESSOR = "run-views";
    private static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(10);

    private final TestTables tables = TestTables.create(DagyTable.TOKENS);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));
    private final DynamoTokenStore nodeA = store("node-a");
    private final DynamoTokenStore nodeB = store("node-b");
    private final DynamoTransactionManager transactions = new DynamoTransactionManager(TestTables.dynamoDb());

    private DynamoTokenStore store(String node) {
        return new DynamoTokenStore(TestTables.dynamoDb(), tables.name(DagyTable.TOKENS), TestSerializer.jackson(),
                node, CLAIM_TIMEOUT, clock);
    }

    private static DynamoTrackingToken token(long... positions) {
        return new DynamoTrackingToken(positions);
    }

    @Test
    void initializingCreatesEverySegmentWithTheInitialTokenOnceOnly() {
        nodeA.initializeTokenSegments(PROCESSOR, 4, token(7));

        assertThat(nodeA.fetchSegments(PROCESSOR)).containsExactly(0, 1, 2, 3);
        assertThat(nodeA.fetchToken(PROCESSOR, 2)).isEqualTo(token(7));
        assertThatThrownBy(() -> nodeB.initializeTokenSegments(PROCESSOR, 4)).isInstanceOf(UnableToClaimTokenException.class);
        assertThat(nodeA.requiresExplicitSegmentInitialization()).isTrue();
    }

    @Test
    void aClaimedSegmentCannotBeClaimedByAnotherNodeUntilReleasedOrExpired() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);

        assertThatThrownBy(() -> nodeB.fetchToken(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class)
                .hasMessageContaining("owned by 'node-a'");
        nodeA.releaseClaim(PROCESSOR, 0);
        nodeB.fetchToken(PROCESSOR, 0);
        assertThatThrownBy(() -> nodeA.fetchToken(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);

        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        nodeA.fetchToken(PROCESSOR, 0);
        assertThatThrownBy(() -> nodeB.storeToken(token(1), PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);
    }

    @Test
    void onlyTheOwnerStoresAndTheStoredTokenIsWhatTheNextClaimReturns() {
        nodeA.initializeTokenSegments(PROCESSOR, 2);
        nodeA.fetchToken(PROCESSOR, 1);

        nodeA.storeToken(token(3, 9), PROCESSOR, 1);
        nodeA.releaseClaim(PROCESSOR, 1);

        assertThat(nodeB.fetchToken(PROCESSOR, 1)).isEqualTo(token(3, 9));
        assertThatThrownBy(() -> nodeA.storeToken(token(4, 9), PROCESSOR, 1)).isInstanceOf(UnableToClaimTokenException.class);
        assertThatThrownBy(() -> nodeA.fetchToken(PROCESSOR, 5)).hasMessageContaining("has not been initialized");
    }

    @Test
    void theStoredTokenCanBeReadWithoutClaimingTheSegment() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);
        nodeA.storeToken(token(2, 5), PROCESSOR, 0);

        assertThat(nodeB.storedToken(PROCESSOR, 0)).isEqualTo(token(2, 5));
        nodeA.storeToken(token(3, 5), PROCESSOR, 0); // still node A's
        assertThatThrownBy(() -> nodeB.fetchToken(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);
        assertThatThrownBy(() -> nodeB.storedToken(PROCESSOR, 7)).hasMessageContaining("has not been initialized");
    }

    @Test
    void extendingAClaimKeepsItAliveAndOnlyTheOwnerCanExtend() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);

        clock.advance(CLAIM_TIMEOUT.minusSeconds(1));
        nodeA.extendClaim(PROCESSOR, 0);
        clock.advance(CLAIM_TIMEOUT.minusSeconds(1));

        assertThatThrownBy(() -> nodeB.fetchToken(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);
        assertThatThrownBy(() -> nodeB.extendClaim(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);
    }

    @Test
    void availableSegmentsAreThoseNotClaimedByOthersWithTheirMasks() {
        nodeA.initializeTokenSegments(PROCESSOR, 2);
        nodeB.fetchToken(PROCESSOR, 0);

        List<Segment> available = nodeA.fetchAvailableSegments(PROCESSOR);

        assertThat(available).extracting(Segment::getSegmentId).containsExactly(1);
        assertThat(available.get(0).getMask()).isEqualTo(1);
    }

    @Test
    void initializingAnExistingSegmentFailsAndDeletingNeedsTheClaim() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.initializeSegment(token(5), PROCESSOR, 1);

        assertThatThrownBy(() -> nodeA.initializeSegment(token(5), PROCESSOR, 1))
                .isInstanceOf(UnableToInitializeTokenException.class);
        assertThatThrownBy(() -> nodeA.deleteToken(PROCESSOR, 1)).isInstanceOf(UnableToClaimTokenException.class);
        nodeA.fetchToken(PROCESSOR, 1);
        nodeA.deleteToken(PROCESSOR, 1);
        assertThat(nodeA.fetchSegments(PROCESSOR)).containsExactly(0);
    }

    @Test
    void aSegmentSplitSinceItWasOfferedCannotBeClaimedWithItsOldMask() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        Segment offered = nodeB.fetchAvailableSegments(PROCESSOR).get(0);
        nodeA.fetchToken(PROCESSOR, 0);
        Segment[] halves = offered.split();
        nodeA.initializeSegment(token(0), PROCESSOR, halves[1].getSegmentId());
        nodeA.releaseClaim(PROCESSOR, 0);

        assertThatThrownBy(() -> nodeB.fetchToken(PROCESSOR, offered)).hasMessageContaining("split or merged");
        assertThat(nodeB.fetchToken(PROCESSOR, halves[0])).isEqualTo(DynamoTrackingToken.tail(0));
    }

    @Test
    void tokenWritesInATransactionLandOnlyAtCommitAndFoldIntoOneWritePerSegment() {
        nodeA.initializeTokenSegments(PROCESSOR, 2);
        nodeA.fetchToken(PROCESSOR, 0);
        nodeA.fetchToken(PROCESSOR, 1);

        Transaction rolledBack = transactions.startTransaction();
        nodeA.storeToken(token(1), PROCESSOR, 0);
        rolledBack.rollback();

        Transaction merge = transactions.startTransaction();
        nodeA.deleteToken(PROCESSOR, 1);
        nodeA.storeToken(token(8), PROCESSOR, 0);
        nodeA.releaseClaim(PROCESSOR, 0);
        assertThat(nodeB.fetchSegments(PROCESSOR)).containsExactly(0, 1);
        merge.commit();

        assertThat(nodeB.fetchSegments(PROCESSOR)).containsExactly(0);
        assertThat(nodeB.fetchToken(PROCESSOR, 0)).isEqualTo(token(8));
    }

    @Test
    void aStoreInATransactionFailsAtCommitIfTheClaimWasLost() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);
        Transaction transaction = transactions.startTransaction();
        nodeA.storeToken(token(2), PROCESSOR, 0);
        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        nodeB.fetchToken(PROCESSOR, 0);

        assertThatThrownBy(transaction::commit).isInstanceOf(UnableToClaimTokenException.class);
        assertThat(nodeB.fetchToken(PROCESSOR, 0)).isEqualTo(DynamoTrackingToken.tail(0));
    }

    /**
     * Axon's pooled processor opens one stream for its segments from the lower bound of their positions, and a segment
     * without a position ("no token", a replay without a current position) made that "no position": the stream then
     * started at the tail as a plain stream and the other segments' positions were lost. A segment always holds one.
     */
    @Test
    void aSegmentAlwaysHoldsAPositionEvenWithoutATokenOrReplayingFromTheStart() {
        nodeA.initializeTokenSegments(PROCESSOR, 2);
        nodeA.initializeSegment(ReplayToken.createReplayToken(token(9, 9)), PROCESSOR, 2);

        assertThat(nodeA.fetchToken(PROCESSOR, 0)).isEqualTo(DynamoTrackingToken.tail(0));
        TrackingToken replay = nodeA.fetchToken(PROCESSOR, 2);
        assertThat(replay).isInstanceOf(ReplayToken.class);
        assertThat(((ReplayToken) replay).getTokenAtReset()).isEqualTo(token(9, 9));
        assertThat(WrappedToken.unwrapLowerBound(replay)).isEqualTo(DynamoTrackingToken.tail(0));
        nodeA.storeToken(null, PROCESSOR, 0);
        assertThat(nodeB.storedToken(PROCESSOR, 0)).isEqualTo(DynamoTrackingToken.tail(0));
    }

    /**
     * What a segment stores is one position: for a merged segment the lower position of its halves (a segment must
     * stand at one position for one stream to serve it exactly; the half that was ahead sees its events again).
     */
    @Test
    void aSegmentStoresThePositionItHasHandled() {
        nodeA.initializeTokenSegments(PROCESSOR, 2);
        nodeA.fetchToken(PROCESSOR, 0);
        nodeA.fetchToken(PROCESSOR, 1);

        nodeA.storeToken(MergedTrackingToken.merged(token(4, 1), token(1, 4)), PROCESSOR, 0);
        nodeA.storeToken(ReplayToken.createReplayToken(token(8, 8), token(2, 3)), PROCESSOR, 1);

        assertThat(nodeB.storedToken(PROCESSOR, 0)).isEqualTo(token(1, 1));
        assertThat(WrappedToken.unwrapLowerBound(nodeB.storedToken(PROCESSOR, 1))).isEqualTo(token(2, 3));
    }

    @Test
    void theStorageIdentifierIsStable() {
        assertThat(nodeA.retrieveStorageIdentifier()).isPresent().isEqualTo(nodeB.retrieveStorageIdentifier());
    }

    @Test
    void twoNodesRacingForTheSameSegmentsNeverHoldOneAtTheSameTime() throws Exception {
        int segments = 4;
        nodeA.initializeTokenSegments(PROCESSOR, segments);
        Map<Integer, String> holders = new ConcurrentHashMap<>();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger claims = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> racers = new ArrayList<>();
        for (DynamoTokenStore node : List.of(nodeA, nodeB, store("node-c"), store("node-d"))) {
            racers.add(pool.submit(() -> {
                for (int round = 0; round < 40; round++) {
                    int segment = round % segments;
                    try {
                        node.fetchToken(PROCESSOR, segment);
                    } catch (UnableToClaimTokenException taken) {
                        continue;
                    }
                    claims.incrementAndGet();
                    if (holders.putIfAbsent(segment, node.nodeId()) != null) {
                        overlaps.incrementAndGet();
                    }
                    node.storeToken(token(round), PROCESSOR, segment);
                    holders.remove(segment, node.nodeId());
                    node.releaseClaim(PROCESSOR, segment);
                }
            }));
        }
        for (Future<?> racer : racers) {
            racer.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();

        assertThat(claims.get()).isPositive();
        assertThat(overlaps.get()).isZero();
    }
}
