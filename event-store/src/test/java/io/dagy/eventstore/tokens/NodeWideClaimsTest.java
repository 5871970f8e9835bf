package io.dagy.eventstore.tokens;

import io.dagy.eventstore.events.DynamoTrackingToken;
import io.dagy.eventstore.support.MutableClock;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.Segment;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Claims are extended per node (decision 87): an idle node's segments cost one write every few seconds, not one each,
 * and free segments are offered from one scan shared by the node's processors. What each test guards is in its name.
 */
class NodeWideClaimsTest {

    private static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration OFFER_REUSE = Duration.ofMillis(2500);

    private final TestTables tables = TestTables.create(DagyTable.TOKENS);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T10:00:00Z"));
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final ExecutionInterceptor recording = new ExecutionInterceptor() {
        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            requests.add(context.request().getClass().getSimpleName().replace("Request", ""));
        }
    };
    private final DynamoTokenStore nodeA = new DynamoTokenStore(TestTables.dynamoDbWith(recording),
            tables.name(DagyTable.TOKENS), TestSerializer.jackson(), "node-a", CLAIM_TIMEOUT, clock, OFFER_REUSE);
    private final DynamoTokenStore nodeB = new DynamoTokenStore(TestTables.dynamoDb(), tables.name(DagyTable.TOKENS),
            TestSerializer.jackson(), "node-b", CLAIM_TIMEOUT, clock);

    /** Node A holds every segment of three processors, as an idle single node does. */
    private void claimAll() {
        for (String processor : List.of("p1", "p2", "p3")) {
            nodeA.initializeTokenSegments(processor, 2);
            nodeA.fetchToken(processor, 0);
            nodeA.fetchToken(processor, 1);
        }
        requests.clear();
    }

    @Test
    void anExtensionExtendsEveryDueClaimOfTheNodeInOneRequestAndTheOthersWriteNothing() {
        claimAll();
        clock.advance(Duration.ofSeconds(4));

        nodeA.extendClaim("p1", 0);
        assertThat(requests).containsExactly("TransactWriteItems");
        for (String processor : List.of("p1", "p2", "p3")) {
            nodeA.extendClaim(processor, 1);
        }
        nodeA.extendClaim("p2", 0);
        assertThat(requests).as("the other claims were written with the first").hasSize(1);

        clock.advance(Duration.ofSeconds(7)); // 11 s after the claims: only the extension keeps them
        for (String processor : List.of("p1", "p2", "p3")) {
            for (int segment = 0; segment < 2; segment++) {
                int s = segment;
                assertThatThrownBy(() -> nodeB.fetchToken(processor, s)).as(processor + "/" + s)
                        .isInstanceOf(UnableToClaimTokenException.class);
            }
        }
    }

    @Test
    void aClaimNobodyAsksToKeepIsNotExtendedByTheOthersAndExpires() {
        claimAll();
        // the work package of p3/1 is gone (say its release failed): it asks no more, the others keep asking
        for (int second = 0; second < 30; second += 5) {
            clock.advance(Duration.ofSeconds(5));
            for (String processor : List.of("p1", "p2", "p3")) {
                nodeA.extendClaim(processor, 0);
                if (!processor.equals("p3")) {
                    nodeA.extendClaim(processor, 1);
                }
            }
        }

        assertThatThrownBy(() -> nodeB.fetchToken("p1", 1)).isInstanceOf(UnableToClaimTokenException.class);
        nodeB.fetchToken("p3", 1);
    }

    @Test
    void aClaimTakenByAnotherNodeIsFoundByTheSharedWriteAndItsOwnExtensionThenFails() {
        claimAll();
        clock.advance(Duration.ofSeconds(3));
        askForAll(); // one shared write at 10:00:03
        requests.clear();
        // node B's clock runs 11 s ahead: to it, node A's claims have expired
        MutableClock ahead = new MutableClock(Instant.parse("2026-11-30T10:00:14Z"));
        new DynamoTokenStore(TestTables.dynamoDb(), tables.name(DagyTable.TOKENS), TestSerializer.jackson(), "node-b",
                CLAIM_TIMEOUT, ahead).fetchToken("p2", 1);

        clock.advance(Duration.ofSeconds(3));
        nodeA.extendClaim("p1", 0); // extends the others too, and finds p2/1 taken

        assertThat(requests.get(0)).as("the shared write").isEqualTo("TransactWriteItems");
        assertThat(requests.subList(1, requests.size())).as("then one by one, and the read that says who took p2/1")
                .containsExactlyInAnyOrder("UpdateItem", "UpdateItem", "UpdateItem", "UpdateItem", "UpdateItem",
                        "UpdateItem", "GetItem");
        assertThatThrownBy(() -> nodeA.extendClaim("p2", 1)).isInstanceOf(UnableToClaimTokenException.class);
        clock.advance(Duration.ofSeconds(8)); // 11 s after the shared write that failed
        assertThatThrownBy(() -> nodeB.fetchToken("p3", 1)).as("the others were extended one by one")
                .isInstanceOf(UnableToClaimTokenException.class);
    }

    private void askForAll() {
        for (String processor : List.of("p1", "p2", "p3")) {
            nodeA.extendClaim(processor, 0);
            nodeA.extendClaim(processor, 1);
        }
    }

    @Test
    void theAskingClaimFailsAtOnceWhenItWasTaken() {
        claimAll();
        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        nodeB.fetchToken("p1", 0);

        assertThatThrownBy(() -> nodeA.extendClaim("p1", 0)).isInstanceOf(UnableToClaimTokenException.class);
        nodeA.extendClaim("p1", 1);
    }

    @Test
    void offersToAllProcessorsComeFromOneScanUntilItIsOld() {
        for (String processor : List.of("p1", "p2", "p3")) {
            nodeB.initializeTokenSegments(processor, 2);
        }
        nodeB.fetchToken("p2", 0);

        assertThat(nodeA.fetchAvailableSegments("p1")).extracting(Segment::getSegmentId).containsExactly(0, 1);
        assertThat(nodeA.fetchAvailableSegments("p2")).extracting(Segment::getSegmentId).containsExactly(1);
        assertThat(nodeA.fetchAvailableSegments("p3")).hasSize(2);
        assertThat(requests).containsExactly("Scan");

        nodeB.releaseClaim("p2", 0);
        assertThat(nodeA.fetchAvailableSegments("p2")).as("an offer may be stale for a while")
                .extracting(Segment::getSegmentId).containsExactly(1);
        clock.advance(OFFER_REUSE);
        assertThat(nodeA.fetchAvailableSegments("p2")).extracting(Segment::getSegmentId).containsExactly(0, 1);
        assertThat(requests).containsExactly("Scan", "Scan");
    }

    @Test
    void storedTokensOfEveryProcessorComeFromTheSameScan() {
        nodeB.initializeTokenSegments("p1", 2, DynamoTrackingToken.tail(1).advancedTo(0, 7));
        nodeB.initializeTokenSegments("p2", 1, DynamoTrackingToken.tail(1).advancedTo(0, 3));

        assertThat(nodeA.storedTokens("p1")).containsOnlyKeys(0, 1)
                .containsValue(DynamoTrackingToken.tail(1).advancedTo(0, 7));
        assertThat(nodeA.storedTokens("p2")).containsExactly(Map.entry(0, DynamoTrackingToken.tail(1).advancedTo(0, 3)));
        assertThat(nodeA.fetchAvailableSegments("p1")).hasSize(2);
        assertThat(requests).containsExactly("Scan");
    }

    @Test
    void aProcessorInitializedSinceTheScanIsQueried() {
        nodeB.initializeTokenSegments("p1", 1);
        nodeA.fetchAvailableSegments("p1");
        nodeB.initializeTokenSegments("p4", 2);

        assertThat(nodeA.fetchAvailableSegments("p4")).hasSize(2);
        assertThat(requests).containsExactly("Scan", "Query");
    }
}
