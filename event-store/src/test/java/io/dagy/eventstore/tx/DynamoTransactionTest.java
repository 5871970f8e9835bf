package io.dagy.eventstore.tx;

import io.dagy.eventstore.support.ConflictInjector;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.common.AxonTransientException;
import org.axonframework.common.transaction.Transaction;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DynamoTransactionTest {

    private final TestTables tables = TestTables.create(DagyTable.RUNS, DagyTable.SAGAS);
    private final DynamoTransactionManager manager = new DynamoTransactionManager(TestTables.dynamoDb());

    private static Map<String, AttributeValue> key(String pk) {
        return Map.of("pk", AttributeValue.fromS(pk), "sk", AttributeValue.fromS("x"));
    }

    private TransactWriteItem put(String table, String pk, String condition) {
        Map<String, AttributeValue> item = new HashMap<>(key(pk));
        item.put("v", AttributeValue.fromS("1"));
        return TransactWriteItem.builder().put(Put.builder().tableName(table).item(item)
                .conditionExpression(condition).build()).build();
    }

    private boolean exists(String table, String pk) {
        var item = TestTables.dynamoDb().getItem(b -> b.tableName(table).consistentRead(true).key(key(pk))).item();
        return item != null && !item.isEmpty();
    }

    @Test
    void aUnitOfWorkOfMoreItemsThanOneTransactionHoldsCommitsEffectsFirstAndProgressLast() {
        String runs = tables.name(DagyTable.RUNS);
        String progress = tables.name(DagyTable.SAGAS);
        Transaction transaction = manager.startTransaction();
        DynamoTransaction open = DynamoTransactionManager.current().orElseThrow();
        open.writeLast(new DynamoTransaction.ItemKey(progress, key("token")), put(progress, "token", null),
                IllegalStateException::new);
        for (int i = 0; i < 230; i++) {
            open.write(new DynamoTransaction.ItemKey(runs, key("view-" + i)), put(runs, "view-" + i, null),
                    IllegalStateException::new);
        }
        transaction.commit();

        for (int i = 0; i < 230; i++) {
            assertThat(exists(runs, "view-" + i)).as("view-%d", i).isTrue();
        }
        assertThat(exists(progress, "token")).isTrue();
    }

    @Test
    void whenAnEarlyPartFailsTheProgressIsNotWritten() {
        String runs = tables.name(DagyTable.RUNS);
        String progress = tables.name(DagyTable.SAGAS);
        TestTables.dynamoDb().putItem(b -> b.tableName(runs).item(key("taken")));
        Transaction transaction = manager.startTransaction();
        DynamoTransaction open = DynamoTransactionManager.current().orElseThrow();
        open.writeLast(new DynamoTransaction.ItemKey(progress, key("token")), put(progress, "token", null),
                IllegalStateException::new);
        open.write(new DynamoTransaction.ItemKey(runs, key("taken")), put(runs, "taken", "attribute_not_exists(pk)"),
                detail -> new IllegalStateException("refused: " + detail));
        for (int i = 0; i < 120; i++) {
            open.write(new DynamoTransaction.ItemKey(runs, key("more-" + i)), put(runs, "more-" + i, null),
                    IllegalStateException::new);
        }

        assertThatThrownBy(transaction::commit).hasMessageStartingWith("refused");
        assertThat(exists(progress, "token")).isFalse();
    }

    // ---------------------------------------------------------------- transaction conflicts (real DynamoDB only)

    private TransactWriteItem addOne(String table, String pk) {
        return TransactWriteItem.builder().update(Update.builder().tableName(table).key(key(pk))
                .updateExpression("ADD times :one")
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))).build()).build();
    }

    private int times(String table, String pk) {
        var item = TestTables.dynamoDb().getItem(b -> b.tableName(table).consistentRead(true).key(key(pk))).item();
        return item == null || item.isEmpty() ? 0 : Integer.parseInt(item.get("times").n());
    }

    @Test
    void aCommitCancelledByATransactionConflictIsSentAgainAndEveryWriteLandsOnce() {
        String runs = tables.name(DagyTable.RUNS);
        String progress = tables.name(DagyTable.SAGAS);
        ConflictInjector conflicts = ConflictInjector.on(TransactWriteItemsRequest.class, 1);
        var conflicting = new DynamoTransactionManager(TestTables.dynamoDbWith(conflicts));

        Transaction transaction = conflicting.startTransaction();
        DynamoTransaction open = DynamoTransactionManager.current().orElseThrow();
        open.write(new DynamoTransaction.ItemKey(runs, key("counter")), addOne(runs, "counter"), IllegalStateException::new);
        open.writeLast(new DynamoTransaction.ItemKey(progress, key("token")), put(progress, "token", "attribute_not_exists(pk)"),
                detail -> new IllegalStateException("refused: " + detail));
        transaction.commit();

        assertThat(conflicts.injected()).isEqualTo(1);
        assertThat(times(runs, "counter")).isEqualTo(1);
        assertThat(exists(progress, "token")).isTrue();
    }

    @Test
    void aUnitOfWorkCommittedInPartsSendsEachConflictingPartAgain() {
        String runs = tables.name(DagyTable.RUNS);
        String progress = tables.name(DagyTable.SAGAS);
        ConflictInjector conflicts = ConflictInjector.on(TransactWriteItemsRequest.class, 3);
        var conflicting = new DynamoTransactionManager(TestTables.dynamoDbWith(conflicts));

        Transaction transaction = conflicting.startTransaction();
        DynamoTransaction open = DynamoTransactionManager.current().orElseThrow();
        open.writeLast(new DynamoTransaction.ItemKey(progress, key("token")), put(progress, "token", null),
                IllegalStateException::new);
        for (int i = 0; i < 150; i++) {
            open.write(new DynamoTransaction.ItemKey(runs, key("view-" + i)), addOne(runs, "view-" + i),
                    IllegalStateException::new);
        }
        transaction.commit();

        assertThat(conflicts.injected()).isEqualTo(3);
        for (int i = 0; i < 150; i++) {
            assertThat(times(runs, "view-" + i)).as("view-%d", i).isEqualTo(1);
        }
        assertThat(exists(progress, "token")).isTrue();
    }

    @Test
    void aCommitThatKeepsConflictingFailsWithATransientExceptionAndWritesNothing() {
        String runs = tables.name(DagyTable.RUNS);
        ConflictInjector conflicts = ConflictInjector.on(TransactWriteItemsRequest.class, 1_000);
        var conflicting = new DynamoTransactionManager(TestTables.dynamoDbWith(conflicts));

        Transaction transaction = conflicting.startTransaction();
        DynamoTransactionManager.current().orElseThrow().write(new DynamoTransaction.ItemKey(runs, key("counter")),
                addOne(runs, "counter"), IllegalStateException::new);

        assertThatThrownBy(transaction::commit).isInstanceOf(DynamoTransactionException.class)
                .isInstanceOf(AxonTransientException.class);
        assertThat(conflicts.injected()).isEqualTo(TransactionConflicts.ATTEMPTS);
        assertThat(times(runs, "counter")).isZero();
    }
}
