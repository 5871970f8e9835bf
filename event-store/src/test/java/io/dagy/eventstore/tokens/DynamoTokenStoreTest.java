package io.dagy.eventstore.tokens;

import io.dagy.eventstore.events.DynamoTrackingToken;
import io.dagy.eventstore.support.MutableClock;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.support.AfterRequest;
import io.dagy.eventstore.support.ConflictInjector;
import io.dagy.eventstore.tx.DynamoTransaction;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

class DynamoTokenStoreTest {

    private static final String PROCESSOR = "run-views";
    private static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(10);

    private final TestTables tables = TestTables.create(DagyTable.TOKENS);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));
    private final DynamoTokenStore nodeA = store("node-a");
    private final DynamoTokenStore nodeB = store("node-b");
    private final DynamoTransactionManager transactions = new DynamoTransactionManager(TestTables.dynamoDb());
    /** Another node's thread: a transaction is bound to its thread, so what another node does runs here. */
    private final ExecutorService otherNode = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopOtherNode() {
        otherNode.shutdownNow();
    }

    private DynamoTokenStore store(String node) {
        return store(node, clock);
    }

    private DynamoTokenStore store(String node, Clock nodeClock) {
        return store(node, nodeClock, TestTables.dynamoDb());
    }

    private DynamoTokenStore store(String node, Clock nodeClock, DynamoDbClient client) {
        return new DynamoTokenStore(client, tables.name(DagyTable.TOKENS), TestSerializer.jackson(),
                node, CLAIM_TIMEOUT, nodeClock);
    }

    private void onOtherNode(Runnable action) throws Exception {
        try {
            otherNode.submit(action).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    private static long position(TrackingToken token) {
        return token == null ? 0 : ((DynamoTrackingToken) token).position(0);
    }

    private Map<String, AttributeValue> effectKey(int segment, long event) {
        return Map.of("pk", AttributeValue.fromS("effect#" + PROCESSOR + "#" + segment),
                "sk", AttributeValue.fromN(Long.toString(event)));
    }

    /**
     * The effect of handling event {@code event} of a segment, deliberately not idempotent: it adds one to a counter,
     * in the transaction open on this thread. An event handled twice is counted twice.
     */
    private void countEffect(int segment, long event) {
        String table = tables.name(DagyTable.TOKENS);
        Map<String, AttributeValue> key = effectKey(segment, event);
        DynamoTransactionManager.current().orElseThrow().write(new DynamoTransaction.ItemKey(table, key),
                TransactWriteItem.builder().update(Update.builder().tableName(table).key(key)
                        .updateExpression("ADD times :one")
                        .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))).build()).build(),
                IllegalStateException::new);
    }

    private int timesCounted(int segment, long event) {
        var item = TestTables.dynamoDb().getItem(b -> b.tableName(tables.name(DagyTable.TOKENS)).consistentRead(true)
                .key(effectKey(segment, event))).item();
        return item == null || item.isEmpty() ? 0 : Integer.parseInt(item.get("times").n());
    }

    /** Opens a transaction that handles events {@code from + 1 .. to} of a segment and stores the token {@code to}. */
    private Transaction handling(DynamoTokenStore node, int segment, long from, long to) {
        Transaction transaction = transactions.startTransaction();
        for (long event = from + 1; event <= to; event++) {
            countEffect(segment, event);
        }
        node.storeToken(token(to), PROCESSOR, segment);
        return transaction;
    }

    /** Every event up to the segment's stored token was counted exactly once, and nothing beyond it. */
    private void assertEachEventCountedOnceUpTo(int segment, long last) {
        for (long event = 1; event <= last + 3; event++) {
            assertThat(timesCounted(segment, event)).as("times event %d of segment %d was counted", event, segment)
                    .isEqualTo(event <= last ? 1 : 0);
        }
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

    // ---------------------------------------------------------------- a node that lost its claim cannot commit

    @Test
    void aNodeThatStalledPastItsClaimCannotCommitAfterAnotherNodeTookTheSegmentAndReleasedIt() throws Exception {
        nodeA.initializeTokenSegments(PROCESSOR, 1, token(0));
        nodeA.fetchToken(PROCESSOR, 0);
        Transaction stalled = handling(nodeA, 0, 0, 1);

        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        onOtherNode(() -> {
            assertThat(nodeB.fetchToken(PROCESSOR, 0)).isEqualTo(token(0));
            handling(nodeB, 0, 0, 2).commit();
            nodeB.releaseClaim(PROCESSOR, 0);
        });

        assertThatThrownBy(stalled::commit).isInstanceOf(UnableToClaimTokenException.class);
        assertEachEventCountedOnceUpTo(0, 2);
        assertThat(nodeB.fetchToken(PROCESSOR, 0)).isEqualTo(token(2));
    }

    @Test
    void aNodeWhoseClockRunsAheadTakesTheSegmentAtOnceButTheNodeItTookItFromCannotCommitAfterwards() throws Exception {
        DynamoTokenStore ahead = store("node-ahead", Clock.offset(clock, CLAIM_TIMEOUT.plusSeconds(5)));
        nodeA.initializeTokenSegments(PROCESSOR, 1, token(0));
        nodeA.fetchToken(PROCESSOR, 0);
        Transaction overtaken = handling(nodeA, 0, 0, 1);

        onOtherNode(() -> {
            assertThat(ahead.fetchToken(PROCESSOR, 0)).as("the claim looks expired to a clock that runs ahead")
                    .isEqualTo(token(0));
            handling(ahead, 0, 0, 3).commit();
            ahead.releaseClaim(PROCESSOR, 0);
        });

        assertThatThrownBy(overtaken::commit).isInstanceOf(UnableToClaimTokenException.class);
        assertEachEventCountedOnceUpTo(0, 3);
        assertThat(ahead.fetchToken(PROCESSOR, 0)).isEqualTo(token(3));
    }

    @Test
    void aNodeThatLostItsClaimCannotStoreExtendOrDeleteOutsideATransactionEither() {
        nodeA.initializeTokenSegments(PROCESSOR, 1, token(0));
        nodeA.fetchToken(PROCESSOR, 0);
        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        nodeB.fetchToken(PROCESSOR, 0);
        nodeB.storeToken(token(5), PROCESSOR, 0);
        nodeB.releaseClaim(PROCESSOR, 0);

        assertThatThrownBy(() -> nodeA.storeToken(token(1), PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);
        assertThatThrownBy(() -> nodeA.extendClaim(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);
        assertThatThrownBy(() -> nodeA.deleteToken(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);
        assertThat(nodeA.fetchToken(PROCESSOR, 0)).as("the token never moves backwards").isEqualTo(token(5));
    }

    @Test
    void aLargeBatchOfANodeThatLostItsClaimWritesNoneOfItsEffects() throws Exception {
        nodeA.initializeTokenSegments(PROCESSOR, 1, token(0));
        nodeA.fetchToken(PROCESSOR, 0);
        Transaction stalled = handling(nodeA, 0, 0, 150); // more items than one DynamoDB transaction holds

        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        onOtherNode(() -> {
            nodeB.fetchToken(PROCESSOR, 0);
            nodeB.releaseClaim(PROCESSOR, 0);
        });

        assertThatThrownBy(stalled::commit).isInstanceOf(UnableToClaimTokenException.class);
        assertEachEventCountedOnceUpTo(0, 0);
        assertThat(nodeB.fetchToken(PROCESSOR, 0)).isEqualTo(token(0));
    }

    @Test
    void releasingInATransactionASegmentAnotherNodeTookChangesNothingAndTheRestCommits() throws Exception {
        nodeA.initializeTokenSegments(PROCESSOR, 2, token(0));
        nodeA.fetchToken(PROCESSOR, 0);
        nodeA.fetchToken(PROCESSOR, 1);
        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        onOtherNode(() -> nodeB.fetchToken(PROCESSOR, 0));
        nodeA.extendClaim(PROCESSOR, 1);

        transactions.executeInTransaction(() -> nodeA.releaseClaim(PROCESSOR, 0));
        Transaction transaction = handling(nodeA, 1, 0, 3);
        nodeA.releaseClaim(PROCESSOR, 0);
        transaction.commit();

        assertThatThrownBy(() -> nodeA.fetchToken(PROCESSOR, 0)).hasMessageContaining("owned by 'node-b'");
        assertEachEventCountedOnceUpTo(1, 3);
        assertThatThrownBy(() -> nodeB.fetchToken(PROCESSOR, 1)).hasMessageContaining("owned by 'node-a'");
    }

    /** The pooled processor's coordinator extends claims on its own thread while a worker's batch is open. */
    @Test
    void extendingTheClaimWhileABatchIsOpenDoesNotFailTheBatch() throws Exception {
        nodeA.initializeTokenSegments(PROCESSOR, 1, token(0));
        nodeA.fetchToken(PROCESSOR, 0);
        Transaction batch = handling(nodeA, 0, 0, 2);

        for (int i = 0; i < 3; i++) {
            clock.advance(CLAIM_TIMEOUT.minusSeconds(2));
            onOtherNode(() -> transactions.executeInTransaction(() -> nodeA.extendClaim(PROCESSOR, 0)));
            assertThatThrownBy(() -> nodeB.fetchToken(PROCESSOR, 0)).isInstanceOf(UnableToClaimTokenException.class);
        }
        batch.commit();

        assertEachEventCountedOnceUpTo(0, 2);
    }

    @Test
    void aSplitCommittedAfterTheSegmentWasTakenFailsSoTheNewHalfNeverStartsFromAnOldToken() throws Exception {
        nodeA.initializeTokenSegments(PROCESSOR, 1, token(0));
        TrackingToken loaded = nodeA.fetchToken(PROCESSOR, 0);
        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        onOtherNode(() -> {
            nodeB.fetchToken(PROCESSOR, 0);
            handling(nodeB, 0, 0, 3).commit();
            nodeB.releaseClaim(PROCESSOR, 0);
        });

        Transaction split = transactions.startTransaction();
        nodeA.initializeSegment(loaded, PROCESSOR, 1);
        nodeA.releaseClaim(PROCESSOR, 0);

        assertThatThrownBy(split::commit).isInstanceOf(UnableToClaimTokenException.class);
        assertThat(nodeA.fetchSegments(PROCESSOR)).containsExactly(0);
        assertThat(nodeA.fetchToken(PROCESSOR, 0)).isEqualTo(token(3));
    }

    @Test
    void aSegmentSplitWhileAnotherNodeClaimsItIsEitherRefusedToThatNodeOrTheSplitFails() {
        nodeA.initializeTokenSegments(PROCESSOR, 1, token(0));
        TrackingToken loaded = nodeA.fetchToken(PROCESSOR, 0);
        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        // node A, whose claim has expired without anyone taking it, splits the segment right after node B has read
        // the segments to check the mask it was offered
        AfterRequest splitMeanwhile = new AfterRequest(QueryRequest.class::isInstance, () -> {
            try {
                transactions.executeInTransaction(() -> {
                    nodeA.initializeSegment(loaded, PROCESSOR, 1);
                    nodeA.releaseClaim(PROCESSOR, 0);
                });
            } catch (UnableToClaimTokenException lost) {
                // the split may fail: that is one of the two correct outcomes
            }
        });
        DynamoTokenStore racingB = store("node-b", clock, TestTables.dynamoDbWith(splitMeanwhile));

        Throwable refused = catchThrowable(() -> racingB.fetchToken(PROCESSOR, Segment.ROOT_SEGMENT));

        assertThat(splitMeanwhile.ran()).isTrue();
        if (refused == null) {
            assertThat(nodeA.fetchSegments(PROCESSOR)).as("node B holds the whole range, so no split may exist")
                    .containsExactly(0);
        } else {
            assertThat(refused).isInstanceOf(UnableToClaimTokenException.class);
            assertThat(nodeA.fetchSegments(PROCESSOR)).containsExactly(0, 1);
        }
    }

    // ---------------------------------------------------------------- transaction conflicts (real DynamoDB only)

    @Test
    void tokenWritesOutsideATransactionThatConflictWithATransactionAreSentAgain() {
        ConflictInjector conflicts = ConflictInjector.when(
                request -> !(request instanceof QueryRequest) && !(request instanceof GetItemRequest), 0);
        DynamoTokenStore conflicting = store("node-a", clock, TestTables.dynamoDbWith(conflicts));

        conflicts.arm(1);
        conflicting.initializeTokenSegments(PROCESSOR, 1, token(0));
        conflicts.arm(1);
        assertThat(conflicting.fetchToken(PROCESSOR, 0)).isEqualTo(token(0));
        conflicts.arm(1);
        conflicting.storeToken(token(4), PROCESSOR, 0);
        clock.advance(Duration.ofSeconds(3)); // a claim written just now is not written again (decision 87)
        conflicts.arm(1);
        conflicting.extendClaim(PROCESSOR, 0);
        conflicts.arm(1);
        conflicting.initializeSegment(token(4), PROCESSOR, 1);
        conflicts.arm(1);
        conflicting.releaseClaim(PROCESSOR, 0);
        conflicting.fetchToken(PROCESSOR, 1);
        conflicts.arm(1);
        conflicting.deleteToken(PROCESSOR, 1);
        conflicts.arm(1);
        assertThat(conflicting.retrieveStorageIdentifier()).isEqualTo(nodeB.retrieveStorageIdentifier());

        assertThat(conflicts.injected()).isEqualTo(8);
        assertThat(nodeB.fetchSegments(PROCESSOR)).containsExactly(0);
        assertThat(nodeB.fetchToken(PROCESSOR, 0)).as("released, with the stored token").isEqualTo(token(4));
    }

    // ---------------------------------------------------------------- races

    /**
     * Four nodes race over two segments while the clock moves: a node sometimes stalls mid-batch past the claim
     * timeout (the clock jumps, so every claim expires) and stays stalled until another node has finished a round on
     * that segment (taken it, committed, and released or abandoned it); otherwise nodes release or abandon claims at
     * random. Each batch's effects and token commit in one transaction. No event may be counted twice and no token may
     * move backwards, which shows as: every segment has counted exactly the events up to its stored token.
     */
    @Test
    void nodesRacingForSegmentsWhileClaimsExpireAndAreStolenNeverApplyAnEffectTwice() throws Exception {
        List<DynamoTokenStore> nodes = List.of(nodeA, nodeB, store("node-c"), store("node-d"));
        Race race = new Race(2);
        race.run(nodes, 60, (node, random, segment) -> {
            if (random.nextInt(4) == 0) {
                clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
                race.awaitAnotherRound(segment);
            }
        });

        assertThat(race.commits.get()).isPositive();
        assertThat(race.lost.get()).as("commits refused because the claim was stolen meanwhile").isPositive();
    }

    /**
     * Two nodes race over one segment; one node's clock runs ahead by more than the claim timeout, so to it every claim
     * of the other looks expired and it takes the segment whenever it asks, even mid-batch. Nobody moves a clock; the
     * node that runs behind sometimes pauses mid-batch until the other has finished a round.
     */
    @Test
    void aNodeWhoseClockRunsAheadOfTheClaimTimeoutNeverCausesAnEffectTwiceNorMovesATokenBack() throws Exception {
        DynamoTokenStore ahead = store("node-ahead", Clock.offset(clock, CLAIM_TIMEOUT.multipliedBy(2)));
        Race race = new Race(1);
        race.run(List.of(nodeA, ahead), 100, (node, random, segment) -> {
            if (node == nodeA && random.nextBoolean()) {
                race.awaitAnotherRound(segment);
            }
        });

        assertThat(race.commits.get()).isPositive();
        assertThat(race.lost.get()).as("commits refused because the claim was taken meanwhile").isPositive();
    }

    interface MidBatch {
        void accept(DynamoTokenStore node, Random random, int segment) throws InterruptedException;
    }

    /** Racing nodes that each claim a segment, handle a few batches and release or abandon it, many times over. */
    private final class Race {
        final AtomicInteger commits = new AtomicInteger();
        final AtomicInteger lost = new AtomicInteger();
        private final int segments;
        private final int[] roundsFinished;

        Race(int segments) {
            this.segments = segments;
            this.roundsFinished = new int[segments];
        }

        private synchronized void roundFinished(int segment) {
            roundsFinished[segment]++;
            notifyAll();
        }

        /**
         * Waits (at most a moment, should everybody else be waiting too) until some node finishes a round on the
         * segment: a stall that lets others act, without sleeping for a guessed time.
         */
        synchronized void awaitAnotherRound(int segment) throws InterruptedException {
            int seen = roundsFinished[segment];
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
            while (roundsFinished[segment] == seen) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }

        void run(List<DynamoTokenStore> nodes, int rounds, MidBatch midBatch) throws Exception {
            nodeA.initializeTokenSegments(PROCESSOR, segments, token(0));
            ExecutorService pool = Executors.newFixedThreadPool(nodes.size());
            List<Future<?>> racers = new ArrayList<>();
            for (int n = 0; n < nodes.size(); n++) {
                DynamoTokenStore node = nodes.get(n);
                Random random = new Random(n);
                racers.add(pool.submit(() -> {
                    for (int round = 0; round < rounds; round++) {
                        int segment = random.nextInt(segments);
                        long position;
                        try {
                            position = position(node.fetchToken(PROCESSOR, segment));
                        } catch (UnableToClaimTokenException taken) {
                            continue;
                        }
                        for (int batch = 1 + random.nextInt(3); batch > 0; batch--) {
                            long next = position + 1 + random.nextInt(3);
                            Transaction transaction = handling(node, segment, position, next);
                            try {
                                midBatch.accept(node, random, segment);
                                transaction.commit();
                            } catch (UnableToClaimTokenException stolen) {
                                lost.incrementAndGet();
                                break;
                            } finally {
                                if (DynamoTransactionManager.current().isPresent()) {
                                    transaction.rollback();
                                }
                            }
                            commits.incrementAndGet();
                            position = next;
                        }
                        if (random.nextBoolean()) {
                            node.releaseClaim(PROCESSOR, segment);
                        }
                        roundFinished(segment);
                    }
                    return null;
                }));
            }
            for (Future<?> racer : racers) {
                racer.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();

            DynamoTokenStore observer = store("observer", Clock.offset(clock, CLAIM_TIMEOUT.multipliedBy(10)));
            for (int segment = 0; segment < segments; segment++) {
                assertEachEventCountedOnceUpTo(segment, position(observer.fetchToken(PROCESSOR, segment)));
            }
        }
    }
}
