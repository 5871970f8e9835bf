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

    private final TestTables tables = TestTables.create(DagyTable.RUNS, DagyTable.SAGAS, DagyTable.DEADLINES);
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

    // ---------------------------------------------------------------- parts: size, redo after a crash, sagas kept whole

    /** Lets {@code parts} transactions through, then fails the next one before it is sent: a crash between parts. */
    static final class CrashBetweenParts implements software.amazon.awssdk.core.interceptor.ExecutionInterceptor {
        private final java.util.concurrent.atomic.AtomicInteger allowed;

        CrashBetweenParts(int parts) {
            this.allowed = new java.util.concurrent.atomic.AtomicInteger(parts);
        }

        @Override
        public void beforeExecution(software.amazon.awssdk.core.interceptor.Context.BeforeExecution context,
                                    software.amazon.awssdk.core.interceptor.ExecutionAttributes attributes) {
            if (context.request() instanceof TransactWriteItemsRequest && allowed.getAndDecrement() <= 0) {
                throw new IllegalStateException("crash between parts");
            }
        }
    }

    public static final class PartSaga {
        public String run;

        public PartSaga() {
        }

        PartSaga(String run) {
            this.run = run;
        }
    }

    private static final java.util.Set<org.axonframework.modelling.saga.AssociationValue> SAGA_ASSOCIATIONS =
            java.util.Set.of(new org.axonframework.modelling.saga.AssociationValue("runId", "run-1"),
                    new org.axonframework.modelling.saga.AssociationValue("taskRunId", "run-1/a"),
                    new org.axonframework.modelling.saga.AssociationValue("taskRunId", "run-1/b"),
                    new org.axonframework.modelling.saga.AssociationValue("taskRunId", "run-1/c"),
                    new org.axonframework.modelling.saga.AssociationValue("taskRunId", "run-1/d"));

    /** A batch: {@code before} view writes, a saga's start (state and five associations), 120 more, the token. */
    private void sagaBatch(DynamoTransactionManager transactions, int before) {
        String runs = tables.name(DagyTable.RUNS);
        String sagas = tables.name(DagyTable.SAGAS);
        var store = new io.dagy.eventstore.sagas.DynamoSagaStore(TestTables.dynamoDb(), sagas,
                io.dagy.eventstore.support.TestSerializer.jackson());
        Transaction transaction = transactions.startTransaction();
        DynamoTransaction open = DynamoTransactionManager.current().orElseThrow();
        open.writeLast(new DynamoTransaction.ItemKey(runs, key("token")), put(runs, "token", null),
                IllegalStateException::new);
        for (int i = 0; i < before; i++) {
            open.write(new DynamoTransaction.ItemKey(runs, key("view-" + i)), put(runs, "view-" + i, null),
                    IllegalStateException::new);
        }
        store.insertSaga(PartSaga.class, "saga-1", new PartSaga("run-1"), SAGA_ASSOCIATIONS);
        for (int i = before; i < before + 120; i++) {
            open.write(new DynamoTransaction.ItemKey(runs, key("view-" + i)), put(runs, "view-" + i, null),
                    IllegalStateException::new);
        }
        transaction.commit();
    }

    private java.util.Set<String> sagasOf(org.axonframework.modelling.saga.AssociationValue association) {
        return new io.dagy.eventstore.sagas.DynamoSagaStore(TestTables.dynamoDb(), tables.name(DagyTable.SAGAS),
                io.dagy.eventstore.support.TestSerializer.jackson()).findSagas(PartSaga.class, association);
    }

    private boolean sagaStored() {
        return TestTables.dynamoDb().getItem(b -> b.tableName(tables.name(DagyTable.SAGAS)).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS("saga#saga-1"), "sk", AttributeValue.fromS("state"))))
                .item().size() > 0;
    }

    @Test
    void aUnitOfWorkOverFourMegabytesCommitsInPartsOfAtMostFourMegabytes() {
        String runs = tables.name(DagyTable.RUNS);
        String large = "x".repeat(300 * 1024);
        Transaction transaction = manager.startTransaction();
        DynamoTransaction open = DynamoTransactionManager.current().orElseThrow();
        open.writeLast(new DynamoTransaction.ItemKey(runs, key("token")), put(runs, "token", null),
                IllegalStateException::new);
        for (int i = 0; i < 20; i++) { // 20 items of 300 KB: 6 MB in 21 items
            Map<String, AttributeValue> item = new HashMap<>(key("big-" + i));
            item.put("data", AttributeValue.fromS(large));
            open.write(new DynamoTransaction.ItemKey(runs, key("big-" + i)),
                    TransactWriteItem.builder().put(Put.builder().tableName(runs).item(item).build()).build(),
                    IllegalStateException::new);
        }
        transaction.commit();

        for (int i = 0; i < 20; i++) {
            assertThat(exists(runs, "big-" + i)).as("big-%d", i).isTrue();
        }
        assertThat(exists(runs, "token")).isTrue();
    }

    @Test
    void anItemOverFourHundredKilobytesFailsTheCommitBeforeAnythingIsWritten() {
        String runs = tables.name(DagyTable.RUNS);
        Transaction transaction = manager.startTransaction();
        DynamoTransaction open = DynamoTransactionManager.current().orElseThrow();
        open.write(new DynamoTransaction.ItemKey(runs, key("small")), put(runs, "small", null), IllegalStateException::new);
        Map<String, AttributeValue> item = new HashMap<>(key("huge"));
        item.put("data", AttributeValue.fromS("x".repeat(401 * 1024)));
        open.write(new DynamoTransaction.ItemKey(runs, key("huge")),
                TransactWriteItem.builder().put(Put.builder().tableName(runs).item(item).build()).build(),
                IllegalStateException::new);

        assertThatThrownBy(transaction::commit).isInstanceOf(TransactionTooLargeException.class);
        assertThat(exists(runs, "small")).isFalse();
    }

    @Test
    void aBatchCommittedAgainAfterACrashBetweenPartsFindsItsSagaInsertDoneAndCommits() {
        assertThatThrownBy(() -> sagaBatch(new DynamoTransactionManager(
                TestTables.dynamoDbWith(new CrashBetweenParts(1))), 0)).hasMessageContaining("crash between parts");
        assertThat(sagaStored()).as("the saga landed in the first part").isTrue();
        assertThat(exists(tables.name(DagyTable.RUNS), "token")).isFalse();

        sagaBatch(manager, 0); // the processor handles the batch again

        assertThat(sagaStored()).isTrue();
        assertThat(exists(tables.name(DagyTable.RUNS), "token")).isTrue();
        assertThat(exists(tables.name(DagyTable.RUNS), "view-119")).isTrue();
    }

    @Test
    void aSagasStateAndAssociationsLandInTheSamePart() {
        // 97 views first: split by count alone, the saga's six items would straddle the first part's end
        assertThatThrownBy(() -> sagaBatch(new DynamoTransactionManager(
                TestTables.dynamoDbWith(new CrashBetweenParts(1))), 97)).hasMessageContaining("crash between parts");

        boolean stored = sagaStored();
        for (var association : SAGA_ASSOCIATIONS) {
            assertThat(sagasOf(association)).as("%s with the state (stored: %s)", association, stored)
                    .hasSize(stored ? 1 : 0);
        }
    }

    @Test
    void aDeadlineScheduledInASagasScopeLandsInTheSagasPart() {
        String runs = tables.name(DagyTable.RUNS);
        String deadlines = tables.name(DagyTable.DEADLINES);
        var deadlineManager = io.dagy.eventstore.deadlines.DynamoDeadlineManager.builder()
                .dynamoDb(TestTables.dynamoDb()).tableName(deadlines)
                .scopeAwareProvider(scope -> java.util.stream.Stream.empty())
                .serializer(io.dagy.eventstore.support.TestSerializer.jackson()).transactionManager(manager)
                .nodeId("node-a").startOnFirstSchedule(false).build();
        var store = new io.dagy.eventstore.sagas.DynamoSagaStore(TestTables.dynamoDb(), tables.name(DagyTable.SAGAS),
                io.dagy.eventstore.support.TestSerializer.jackson());
        var crashing = new DynamoTransactionManager(TestTables.dynamoDbWith(new CrashBetweenParts(1)));
        try {
            Transaction transaction = crashing.startTransaction();
            DynamoTransaction open = DynamoTransactionManager.current().orElseThrow();
            open.writeLast(new DynamoTransaction.ItemKey(runs, key("token")), put(runs, "token", null),
                    IllegalStateException::new);
            // 92 views, the saga's 6 items (98), its deadline's 3: by count alone the deadline would straddle the end
            for (int i = 0; i < 92; i++) {
                open.write(new DynamoTransaction.ItemKey(runs, key("view-" + i)), put(runs, "view-" + i, null),
                        IllegalStateException::new);
            }
            store.insertSaga(PartSaga.class, "saga-1", new PartSaga("run-1"), SAGA_ASSOCIATIONS);
            deadlineManager.schedule(java.time.Instant.now().plusSeconds(3600), "timeout", "payload",
                    new org.axonframework.modelling.saga.SagaScopeDescriptor(PartSaga.class.getName(), "saga-1"));
            for (int i = 92; i < 150; i++) {
                open.write(new DynamoTransaction.ItemKey(runs, key("view-" + i)), put(runs, "view-" + i, null),
                        IllegalStateException::new);
            }
            assertThatThrownBy(transaction::commit).hasMessageContaining("crash between parts");
        } finally {
            deadlineManager.shutdown();
        }

        int deadlineItems = TestTables.dynamoDb().scan(b -> b.tableName(deadlines).consistentRead(true)).count();
        assertThat(deadlineItems).as("the deadline's items, with the saga (stored: %s)", sagaStored())
                .isEqualTo(sagaStored() ? 3 : 0);
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
