package io.dagy.eventstore.contract;

import io.dagy.eventstore.sagas.DynamoSagaStore;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tx.DynamoTransactionException;
import io.dagy.tables.DagyTable;
import org.axonframework.modelling.saga.AssociationValue;
import org.axonframework.modelling.saga.AssociationValuesImpl;
import org.axonframework.modelling.saga.repository.SagaStore;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Axon's saga-store contract, and the deviations Dagy's store has by design, against DynamoDB Local. */
class DynamoSagaStoreContractTest extends SagaStoreContract {

    private final TestTables tables = TestTables.create(DagyTable.SAGAS);
    private final DynamoSagaStore nodeA = new DynamoSagaStore(TestTables.dynamoDb(), tables.name(DagyTable.SAGAS),
            TestSerializer.jackson());
    private final DynamoSagaStore nodeB = new DynamoSagaStore(TestTables.dynamoDb(), tables.name(DagyTable.SAGAS),
            TestSerializer.jackson());

    @Override
    protected SagaStore<Object> store() {
        return nodeA;
    }

    @Override
    protected SagaStore<Object> otherNode() {
        return nodeB;
    }

    /**
     * Deviation: Axon's JDBC store ignores an update of a saga that no longer exists; Dagy's refuses it (its unit of
     * work fails), so a saga that ended on another node is never written back, nor its associations.
     */
    @Test
    void deviationAnUpdateOfADeletedSagaIsRefusedAndWritesNothing() {
        AssociationValue order = new AssociationValue("orderId", "order-1");
        AssociationValuesImpl associations = new AssociationValuesImpl(Set.of(order));
        nodeA.insertSaga(Shipping.class, "saga-1", new Shipping("order-1", 1), associations.asSet());
        nodeA.loadSaga(Shipping.class, "saga-1");
        nodeB.loadSaga(Shipping.class, "saga-1");
        nodeB.deleteSaga(Shipping.class, "saga-1", associations.asSet());
        AssociationValue added = new AssociationValue("parcel", "p-1");
        associations.add(added);

        assertThatThrownBy(() -> nodeA.updateSaga(Shipping.class, "saga-1", new Shipping("order-1", 2), associations))
                .isInstanceOf(DynamoTransactionException.class);

        assertThat(nodeB.loadSaga(Shipping.class, "saga-1")).isNull();
        assertThat(nodeB.findSagas(Shipping.class, added)).isEmpty();
    }

    @Test
    void deviationAnUpdateOfASagaThatNeverExistedIsRefused() {
        assertThatThrownBy(() -> nodeA.updateSaga(Shipping.class, "saga-9", new Shipping("order-9", 1),
                new AssociationValuesImpl(Set.of(new AssociationValue("orderId", "order-9")))))
                .isInstanceOf(DynamoTransactionException.class);

        assertThat(nodeB.loadSaga(Shipping.class, "saga-9")).isNull();
    }
}
