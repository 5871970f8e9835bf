package io.dagy.eventstore.sagas;

import io.dagy.eventstore.support.ConflictInjector;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tx.DynamoTransactionException;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.modelling.saga.AssociationValue;
import org.axonframework.modelling.saga.AssociationValuesImpl;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DynamoSagaStoreTest {

    static class TestSaga {
        private String taskRunId;
        private int attempts;

        TestSaga() {
        }

        TestSaga(String taskRunId, int attempts) {
            this.taskRunId = taskRunId;
            this.attempts = attempts;
        }
    }

    private static final AssociationValue TASK = new AssociationValue("taskRunId", "run-1/extract");
    private static final AssociationValue RUN = new AssociationValue("runId", "run-1");

    private final TestTables tables = TestTables.create(DagyTable.SAGAS);
    private final DynamoSagaStore nodeA = store();
    private final DynamoSagaStore nodeB = store();
    private final DynamoTransactionManager transactions = new DynamoTransactionManager(TestTables.dynamoDb());

    private DynamoSagaStore store() {
        return new DynamoSagaStore(TestTables.dynamoDb(), tables.name(DagyTable.SAGAS), TestSerializer.jackson());
    }

    @Test
    void aJustInsertedSagaIsFoundAtOnceByEveryAssociation() {
        nodeA.insertSaga(TestSaga.class, "saga-1", new TestSaga("run-1/extract", 1), Set.of(TASK, RUN));

        assertThat(nodeB.findSagas(TestSaga.class, TASK)).containsExactly("saga-1");
        assertThat(nodeB.findSagas(TestSaga.class, RUN)).containsExactly("saga-1");
        assertThat(nodeB.findSagas(TestSaga.class, new AssociationValue("runId", "run-2"))).isEmpty();
        var entry = nodeB.loadSaga(TestSaga.class, "saga-1");
        assertThat(entry.saga().attempts).isEqualTo(1);
        assertThat(entry.associationValues()).containsExactlyInAnyOrder(TASK, RUN);
    }

    @Test
    void anUpdateChangesStateAndAssociations() {
        nodeA.insertSaga(TestSaga.class, "saga-2", new TestSaga("run-1/extract", 1), Set.of(TASK, RUN));
        var associations = new AssociationValuesImpl(nodeA.loadSaga(TestSaga.class, "saga-2").associationValues());
        associations.remove(RUN);
        AssociationValue attempt = new AssociationValue("attempt=ref", "run-1/extract/2");
        associations.add(attempt);

        nodeA.updateSaga(TestSaga.class, "saga-2", new TestSaga("run-1/extract", 2), associations);

        assertThat(nodeB.findSagas(TestSaga.class, RUN)).isEmpty();
        assertThat(nodeB.findSagas(TestSaga.class, attempt)).containsExactly("saga-2");
        var entry = nodeB.loadSaga(TestSaga.class, "saga-2");
        assertThat(entry.saga().attempts).isEqualTo(2);
        assertThat(entry.associationValues()).containsExactlyInAnyOrder(TASK, attempt);
    }

    @Test
    void aConcurrentUpdateFromAnotherNodeIsDetectedAndLosesNothing() {
        nodeA.insertSaga(TestSaga.class, "saga-3", new TestSaga("run-1/extract", 1), Set.of(TASK));
        var seenByA = new AssociationValuesImpl(nodeA.loadSaga(TestSaga.class, "saga-3").associationValues());
        var seenByB = new AssociationValuesImpl(nodeB.loadSaga(TestSaga.class, "saga-3").associationValues());

        nodeB.updateSaga(TestSaga.class, "saga-3", new TestSaga("run-1/extract", 2), seenByB);

        assertThatThrownBy(() -> nodeA.updateSaga(TestSaga.class, "saga-3", new TestSaga("run-1/extract", 5), seenByA))
                .isInstanceOf(DynamoTransactionException.class).hasMessageContaining("changed by another node");
        assertThat(nodeA.loadSaga(TestSaga.class, "saga-3").saga().attempts).isEqualTo(2);
    }

    @Test
    void aDeletedSagaAndItsAssociationsAreGone() {
        nodeA.insertSaga(TestSaga.class, "saga-4", new TestSaga("run-1/extract", 1), Set.of(TASK, RUN));
        nodeA.loadSaga(TestSaga.class, "saga-4");

        nodeA.deleteSaga(TestSaga.class, "saga-4", Set.of(TASK, RUN));

        assertThat(nodeB.loadSaga(TestSaga.class, "saga-4")).isNull();
        assertThat(nodeB.findSagas(TestSaga.class, TASK)).isEmpty();
    }

    @Test
    void sagaWritesInATransactionLandAtCommitAndNotAtAllOnRollback() {
        Transaction rolledBack = transactions.startTransaction();
        nodeA.insertSaga(TestSaga.class, "saga-5", new TestSaga("run-1/extract", 1), Set.of(TASK));
        rolledBack.rollback();
        assertThat(nodeB.loadSaga(TestSaga.class, "saga-5")).isNull();

        Transaction committed = transactions.startTransaction();
        nodeA.insertSaga(TestSaga.class, "saga-5", new TestSaga("run-1/extract", 1), Set.of(TASK));
        assertThat(nodeB.findSagas(TestSaga.class, TASK)).isEmpty();
        committed.commit();

        assertThat(nodeB.findSagas(TestSaga.class, TASK)).containsExactly("saga-5");
    }

    @Test
    void sagasOfDifferentTypesDoNotShareAssociations() {
        nodeA.insertSaga(TestSaga.class, "saga-6", new TestSaga("run-1/extract", 1), Set.of(TASK));

        assertThat(nodeA.findSagas(String.class, TASK)).isEmpty();
    }

    @Test
    void aSagaWriteOutsideAUnitOfWorkThatConflictsWithATransactionIsSentAgain() {
        ConflictInjector conflicts = ConflictInjector.on(TransactWriteItemsRequest.class, 1);
        var conflicting = new DynamoSagaStore(TestTables.dynamoDbWith(conflicts), tables.name(DagyTable.SAGAS),
                TestSerializer.jackson());

        conflicting.insertSaga(TestSaga.class, "saga-conflict", new TestSaga("run-1/extract", 1), Set.of(TASK));

        assertThat(conflicts.injected()).isEqualTo(1);
        assertThat(nodeB.findSagas(TestSaga.class, TASK)).containsExactly("saga-conflict");
    }

    /**
     * A keyed type's saga is found by the identifier derived from its association, with no request (decision 81);
     * one stored under an identifier of its own before the type was keyed is found until it ends.
     */
    @Test
    void aKeyedSagaIsFoundWithoutAskingAndAnEarlierOneUntilItEnds() {
        java.util.concurrent.atomic.AtomicInteger queries = new java.util.concurrent.atomic.AtomicInteger();
        DynamoSagaStore keyed = new DynamoSagaStore(TestTables.dynamoDbWith(new software.amazon.awssdk.core.interceptor
                .ExecutionInterceptor() {
            @Override
            public void beforeExecution(software.amazon.awssdk.core.interceptor.Context.BeforeExecution context,
                                        software.amazon.awssdk.core.interceptor.ExecutionAttributes attributes) {
                if (context.request() instanceof software.amazon.awssdk.services.dynamodb.model.QueryRequest) {
                    queries.incrementAndGet();
                }
            }
        }), tables.name(DagyTable.SAGAS), TestSerializer.jackson());
        AssociationValue earlierTask = new AssociationValue("taskRunId", "run-1/load");
        nodeA.insertSaga(TestSaga.class, "saga-from-before", new TestSaga("run-1/load", 1), Set.of(earlierTask));
        keyed.keyBy(TestSaga.class, "taskRunId");

        String id = DynamoSagaStore.keyedId(TestSaga.class, TASK);
        assertThat(id).isEqualTo("TestSaga:run-1/extract");
        keyed.insertSaga(TestSaga.class, id, new TestSaga("run-1/extract", 1), Set.of(TASK));
        assertThat(keyed.findSagas(TestSaga.class, TASK)).containsExactly(id);
        assertThat(keyed.loadSaga(TestSaga.class, id).saga().attempts).isEqualTo(1);
        assertThat(keyed.findSagas(TestSaga.class, earlierTask))
                .containsExactlyInAnyOrder("saga-from-before", DynamoSagaStore.keyedId(TestSaga.class, earlierTask));
        assertThat(queries.get()).isZero();
        // the association items are still written: a store that does not key the type finds the saga as before
        assertThat(nodeB.findSagas(TestSaga.class, TASK)).containsExactly(id);

        keyed.deleteSaga(TestSaga.class, "saga-from-before", Set.of(earlierTask));
        assertThat(keyed.findSagas(TestSaga.class, earlierTask))
                .containsExactly(DynamoSagaStore.keyedId(TestSaga.class, earlierTask));
        assertThat(keyed.loadSaga(TestSaga.class, DynamoSagaStore.keyedId(TestSaga.class, earlierTask))).isNull();
    }

    // ---------------------------------------------------------------- remembered sagas (decision 88)

    @Test
    void aRememberedSagaIsLoadedOnceAndAnUpdateElsewhereIsReadAfterItsConflict() {
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        var counted = countingGetItems(reads);
        DynamoSagaStore remembering = new DynamoSagaStore(counted, tables.name(DagyTable.SAGAS), TestSerializer.jackson());
        remembering.remember(TestSaga.class, new io.dagy.eventstore.tx.OwnedItems("TestSagaProcessor",
                new io.dagy.eventstore.tokens.ClaimEpochs(), 10));
        remembering.insertSaga(TestSaga.class, "saga-r", new TestSaga("run-1/extract", 1), Set.of(TASK));

        for (int attempts = 2; attempts <= 4; attempts++) {
            var loaded = remembering.loadSaga(TestSaga.class, "saga-r");
            assertThat(loaded.saga().attempts).isEqualTo(attempts - 1);
            remembering.updateSaga(TestSaga.class, "saga-r", new TestSaga("run-1/extract", attempts),
                    new AssociationValuesImpl(loaded.associationValues()));
        }
        assertThat(reads.get()).as("each load answered by what the last update wrote").isZero();

        // a deadline fired on another node changes the saga there
        var there = nodeB.loadSaga(TestSaga.class, "saga-r");
        nodeB.updateSaga(TestSaga.class, "saga-r", new TestSaga("run-1/extract", 10),
                new AssociationValuesImpl(there.associationValues()));

        Transaction stale = transactions.startTransaction();
        var loaded = remembering.loadSaga(TestSaga.class, "saga-r");
        assertThat(loaded.saga().attempts).as("what this node remembers").isEqualTo(4);
        remembering.updateSaga(TestSaga.class, "saga-r", new TestSaga("run-1/extract", 5),
                new AssociationValuesImpl(loaded.associationValues()));
        assertThatThrownBy(stale::commit).isInstanceOf(DynamoTransactionException.class);

        assertThat(remembering.loadSaga(TestSaga.class, "saga-r").saga().attempts).as("read again").isEqualTo(10);
        assertThat(reads.get()).isEqualTo(1);
    }

    /**
     * The saga an event starts when it is its first is presumed absent (decision 93): loading it asks nothing. If it
     * exists after all (the event handled again), its insert refuses the commit, and the retry loads it.
     */
    @Test
    void aSagaPresumedNewIsNotReadAndAWrongPresumptionIsRefusedThenLoaded() {
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        var counted = countingGetItems(reads);
        DynamoSagaStore presuming = new DynamoSagaStore(counted, tables.name(DagyTable.SAGAS), TestSerializer.jackson());
        presuming.remember(TestSaga.class, new io.dagy.eventstore.tx.OwnedItems("TestSagaProcessor",
                new io.dagy.eventstore.tokens.ClaimEpochs(), 10));

        Transaction first = transactions.startTransaction();
        presuming.presumingNew("saga-n", () -> {
            assertThat(presuming.loadSaga(TestSaga.class, "saga-n")).isNull();
            presuming.insertSaga(TestSaga.class, "saga-n", new TestSaga("run-1/extract", 1), Set.of(TASK));
        });
        first.commit();
        assertThat(reads).as("presumed, not read").hasValue(0);

        // handled again on a node that remembers nothing of it
        DynamoSagaStore elsewhere = new DynamoSagaStore(counted, tables.name(DagyTable.SAGAS), TestSerializer.jackson());
        elsewhere.remember(TestSaga.class, new io.dagy.eventstore.tx.OwnedItems("TestSagaProcessor",
                new io.dagy.eventstore.tokens.ClaimEpochs(), 10));
        Transaction again = transactions.startTransaction();
        elsewhere.presumingNew("saga-n", () -> {
            assertThat(elsewhere.loadSaga(TestSaga.class, "saga-n")).isNull();
            elsewhere.insertSaga(TestSaga.class, "saga-n", new TestSaga("run-1/extract", 99), Set.of(TASK));
        });
        assertThatThrownBy(again::commit).isInstanceOf(DynamoTransactionException.class);

        Transaction retry = transactions.startTransaction();
        elsewhere.presumingNew("saga-n", () -> assertThat(elsewhere.loadSaga(TestSaga.class, "saga-n").saga().attempts)
                .as("doubted: loaded from the table").isEqualTo(1));
        retry.commit();
        assertThat(reads).hasValue(1);
        assertThat(presuming.loadSaga(TestSaga.class, "saga-n").saga().attempts).as("outside the presumption")
                .isEqualTo(1);
    }

    /** A client that counts the {@code GetItem} requests it sends in {@code reads}. */
    private static software.amazon.awssdk.services.dynamodb.DynamoDbClient countingGetItems(
            java.util.concurrent.atomic.AtomicInteger reads) {
        return TestTables.dynamoDbWith(new software.amazon.awssdk.core.interceptor.ExecutionInterceptor() {
            @Override
            public void beforeExecution(software.amazon.awssdk.core.interceptor.Context.BeforeExecution context,
                                        software.amazon.awssdk.core.interceptor.ExecutionAttributes attributes) {
                if (context.request() instanceof software.amazon.awssdk.services.dynamodb.model.GetItemRequest) {
                    reads.incrementAndGet();
                }
            }
        });
    }
}
