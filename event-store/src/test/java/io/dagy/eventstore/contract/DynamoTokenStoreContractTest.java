package io.dagy.eventstore.contract;

import io.dagy.eventstore.events.DynamoTrackingToken;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Axon's token-store contract, and the deviations Dagy's store has by design, against DynamoDB Local. */
class DynamoTokenStoreContractTest extends TokenStoreContract {

    private static final String PROCESSOR = "views";

    private final TestTables tables = TestTables.create(DagyTable.TOKENS);
    private final DynamoTransactionManager transactions = new DynamoTransactionManager(TestTables.dynamoDb());

    @Override
    protected TokenStore store(String nodeId) {
        return new DynamoTokenStore(TestTables.dynamoDb(), tables.name(DagyTable.TOKENS), TestSerializer.jackson(),
                nodeId, CLAIM_TIMEOUT, clock);
    }

    @Override
    protected TransactionManager transactions() {
        return transactions;
    }

    @Override
    protected TrackingToken token(long position) {
        return new DynamoTrackingToken(new long[] {position});
    }

    /** Deviation: a segment always holds a position; "no token" is the tail (docs/event-store.md). */
    @Override
    protected TrackingToken noToken() {
        return DynamoTrackingToken.tail(0);
    }

    private Map<String, AttributeValue> effectKey(String name) {
        return Map.of("pk", AttributeValue.fromS("effect#" + name), "sk", AttributeValue.fromN("0"));
    }

    @Override
    protected void writeEffect(String name) {
        String table = tables.name(DagyTable.TOKENS);
        DynamoTransactionManager.current().orElseThrow().write(new DynamoTransaction.ItemKey(table, effectKey(name)),
                TransactWriteItem.builder().put(Put.builder().tableName(table).item(effectKey(name)).build()).build(),
                IllegalStateException::new);
    }

    @Override
    protected boolean effectLanded(String name) {
        var item = TestTables.dynamoDb().getItem(b -> b.tableName(tables.name(DagyTable.TOKENS)).consistentRead(true)
                .key(effectKey(name))).item();
        return item != null && !item.isEmpty();
    }

    /**
     * Deviation: a token write that joins a transaction lands when the transaction commits, so a read in that same
     * transaction (Axon's JDBC store answers it from the open connection) does not see it yet.
     */
    @Test
    void deviationAReleaseInAnOpenTransactionIsSeenByOtherReadsOnlyAfterTheCommit() {
        TokenStore nodeA = store("node-a");
        TokenStore nodeB = store("node-b");
        nodeA.initializeTokenSegments(PROCESSOR, 2);
        nodeA.fetchToken(PROCESSOR, 0);

        transactions.executeInTransaction(() -> {
            nodeA.releaseClaim(PROCESSOR, 0);
            assertThat(nodeB.fetchAvailableSegments(PROCESSOR)).extracting(s -> s.getSegmentId()).containsExactly(1);
        });

        assertThat(nodeB.fetchAvailableSegments(PROCESSOR)).extracting(s -> s.getSegmentId()).containsExactly(0, 1);
    }
}
