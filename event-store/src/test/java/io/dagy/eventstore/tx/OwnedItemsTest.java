package io.dagy.eventstore.tx;

import io.dagy.eventstore.support.MutableClock;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.Transaction;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a projection remembers of the items only its segments write (decision 88): read once, kept while this node's
 * claims on the processor stand, forgotten when they move or a transaction does not commit.
 */
class OwnedItemsTest {

    private static final String PROCESSOR = "run-views";
    private static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(10);

    private final TestTables tables = TestTables.create(DagyTable.RUNS, DagyTable.TOKENS);
    private final String table = tables.name(DagyTable.RUNS);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T11:00:00Z"));
    private final AtomicInteger reads = new AtomicInteger();
    private final DynamoDbClient counted = TestTables.dynamoDbWith(new ExecutionInterceptor() {
        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (context.request() instanceof GetItemRequest) {
                reads.incrementAndGet();
            }
        }
    });
    private final DynamoDbClient other = TestTables.dynamoDb();
    private final DynamoTokenStore nodeA = tokens("node-a");
    private final DynamoTokenStore nodeB = tokens("node-b");
    private final OwnedItems owned = new OwnedItems(PROCESSOR, nodeA.claimEpochs(), 100);
    private final DynamoTransactionManager transactions = new DynamoTransactionManager(counted);
    private final Map<String, AttributeValue> key = Map.of("pk", s("run#r-1"), "sk", s("summary"));

    private DynamoTokenStore tokens(String node) {
        return new DynamoTokenStore(TestTables.dynamoDb(), tables.name(DagyTable.TOKENS), TestSerializer.jackson(), node,
                CLAIM_TIMEOUT, clock);
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private Map<String, AttributeValue> item(String value) {
        return Map.of("pk", key.get("pk"), "sk", key.get("sk"), "value", s(value));
    }

    private Optional<String> read() {
        return DynamoWrites.get(counted, table, key, owned).map(found -> found.get("value").s());
    }

    private void putInTransaction(String value) {
        Transaction transaction = transactions.startTransaction();
        DynamoWrites.put(counted, table, item(value), key, owned);
        transaction.commit();
    }

    @Test
    void anItemIsReadOnceAndThenAnsweredAsItsCommittedWritesLeftIt() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);
        other.putItem(b -> b.tableName(table).item(item("v1")));

        assertThat(read()).contains("v1");
        assertThat(read()).contains("v1");
        putInTransaction("v2");
        assertThat(read()).contains("v2");

        assertThat(reads.get()).isEqualTo(1);
    }

    @Test
    void anotherNodesWritesAreReadOnceThisNodeClaimsTheProcessorAgain() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);
        putInTransaction("v1");
        assertThat(read()).contains("v1");

        // node A stalls past the timeout; node B takes the segment and writes the item
        clock.advance(CLAIM_TIMEOUT.plusSeconds(1));
        nodeB.fetchToken(PROCESSOR, 0);
        other.putItem(b -> b.tableName(table).item(item("v2 by node B")));
        nodeB.releaseClaim(PROCESSOR, 0);
        nodeA.fetchToken(PROCESSOR, 0);

        assertThat(read()).contains("v2 by node B");
    }

    @Test
    void aTransactionThatFailsToCommitForgetsWhatItReadAndWrote() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);
        other.putItem(b -> b.tableName(table).item(Map.of("pk", key.get("pk"), "sk", key.get("sk"),
                "value", s("v1"), "version", AttributeValue.fromN("1"))));
        assertThat(read()).contains("v1");
        // a writer outside the projection moves the version (as a second writer of usage totals would)
        other.putItem(b -> b.tableName(table).item(Map.of("pk", key.get("pk"), "sk", key.get("sk"),
                "value", s("v2"), "version", AttributeValue.fromN("2"))));

        Transaction transaction = transactions.startTransaction();
        assertThat(read()).as("remembered").contains("v1");
        DynamoTransaction open = DynamoTransactionManager.current().orElseThrow();
        DynamoTransaction.ItemKey itemKey = new DynamoTransaction.ItemKey(table, key);
        Map<String, AttributeValue> next = Map.of("pk", key.get("pk"), "sk", key.get("sk"), "value", s("v1+1"),
                "version", AttributeValue.fromN("2"));
        open.write(itemKey, TransactWriteItem.builder().put(Put.builder().tableName(table).item(next)
                .conditionExpression("version = :base").expressionAttributeValues(Map.of(":base",
                        AttributeValue.fromN("1"))).build()).build(), IllegalStateException::new);
        owned.written(open, itemKey, next);
        assertThatThrownBy(transaction::commit).isInstanceOf(IllegalStateException.class);

        assertThat(read()).as("read from the table again").contains("v2");
    }

    @Test
    void aRolledBackWriteIsNotRemembered() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);
        putInTransaction("v1");

        Transaction transaction = transactions.startTransaction();
        DynamoWrites.put(counted, table, item("v2"), key, owned);
        transaction.rollback();

        assertThat(read()).contains("v1");
    }

    /**
     * An item only the event being handled creates is presumed absent without a read (decision 93); should it exist
     * after all (the event handled again after a commit of which some parts landed), its conditional create refuses
     * the commit, and the retry reads the table and finds it.
     */
    @Test
    void aNewItemIsPresumedAbsentAndAWrongPresumptionIsRefusedThenRead() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);

        Transaction first = transactions.startTransaction();
        assertThat(DynamoWrites.getNew(counted, table, key, owned)).isEmpty();
        DynamoWrites.create(counted, table, item("created"), key, owned);
        first.commit();
        assertThat(reads).as("presumed, not read").hasValue(0);
        assertThat(read()).contains("created");

        // the same event handled again on a node that remembers nothing: presumed absent, refused at the commit
        OwnedItems fresh = new OwnedItems(PROCESSOR, nodeA.claimEpochs(), 100);
        Transaction again = transactions.startTransaction();
        assertThat(DynamoWrites.getNew(counted, table, key, fresh)).isEmpty();
        DynamoWrites.create(counted, table, item("created twice"), key, fresh);
        assertThatThrownBy(again::commit).hasMessageContaining("presumed absent");
        assertThat(reads).as("a refused presumption is never taken for the same item written before").hasValue(0);

        Transaction retry = transactions.startTransaction();
        assertThat(DynamoWrites.getNew(counted, table, key, fresh)).as("doubted: read from the table")
                .map(found -> found.get("value").s()).contains("created");
        retry.commit();
        assertThat(reads).hasValue(1);
        assertThat(other.getItem(b -> b.tableName(table).key(key).consistentRead(true)).item().get("value").s())
                .isEqualTo("created");
    }

    @Test
    void withoutATransactionANewItemIsRead() {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);
        other.putItem(b -> b.tableName(table).item(item("there")));

        assertThat(DynamoWrites.getNew(counted, table, key, owned)).map(found -> found.get("value").s()).contains("there");
        assertThat(reads).hasValue(1);
    }

    // a wrong presumption refuses the whole commit, whatever the unit of work did with the item after presuming it

    private final Map<String, AttributeValue> otherKey = Map.of("pk", s("run#r-2"), "sk", s("summary"));

    private void presumeAndThen(Runnable then) {
        nodeA.initializeTokenSegments(PROCESSOR, 1);
        nodeA.fetchToken(PROCESSOR, 0);
        other.putItem(b -> b.tableName(table).item(item("stored")));
        Transaction transaction = transactions.startTransaction();
        assertThat(DynamoWrites.getNew(counted, table, key, owned)).isEmpty();
        then.run();
        DynamoWrites.put(counted, table, Map.of("pk", otherKey.get("pk"), "sk", otherKey.get("sk"), "value", s("beside")),
                otherKey, owned);
        assertThatThrownBy(transaction::commit).hasMessageContaining("presumed absent");
        assertThat(other.getItem(b -> b.tableName(table).key(otherKey).consistentRead(true)).item())
                .as("nothing of the unit of work landed").isEmpty();
        assertThat(other.getItem(b -> b.tableName(table).key(key).consistentRead(true)).item().get("value").s())
                .isEqualTo("stored");
    }

    @Test
    void aPresumedItemPutAgainLaterInTheUnitOfWorkStillMustBeAbsent() {
        presumeAndThen(() -> {
            DynamoWrites.create(counted, table, item("created"), key, owned);
            DynamoWrites.put(counted, table, item("changed by a later event"), key, owned); // unconditional
        });
    }

    @Test
    void aPresumedItemTheUnitOfWorkNeverWroteIsCheckedAbsent() {
        presumeAndThen(() -> {
            // a saga started and ended in one unit of work: nothing of it is written
        });
    }

    @Test
    void aPresumedItemWrittenExactlyAsStoredIsNotTakenForItsOwnEarlierWrite() {
        presumeAndThen(() -> DynamoWrites.create(counted, table, item("stored"), key, owned));
    }
}
