package io.dagy.eventstore.contract;

import org.axonframework.modelling.saga.AssociationValue;
import org.axonframework.modelling.saga.AssociationValues;
import org.axonframework.modelling.saga.AssociationValuesImpl;
import org.axonframework.modelling.saga.repository.SagaStore;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What Axon's {@code SagaStore} contract promises, written for Dagy from the cases of Axon's JDBC and JPA saga-store
 * tests (4.13.0). A store under test extends this class; {@link #otherNode()} is a second instance on the same storage.
 */
public abstract class SagaStoreContract {

    private static final AssociationValue ORDER = new AssociationValue("orderId", "order-1");
    private static final AssociationValue CUSTOMER = new AssociationValue("customerId", "customer-1");

    protected abstract SagaStore<Object> store();

    protected abstract SagaStore<Object> otherNode();

    @Test
    void anInsertedSagaLoadsWithItsStateAndAssociations() {
        store().insertSaga(Shipping.class, "saga-1", new Shipping("order-1", 1), Set.of(ORDER, CUSTOMER));

        SagaStore.Entry<Shipping> entry = otherNode().loadSaga(Shipping.class, "saga-1");

        assertThat(entry).isNotNull();
        assertThat(entry.saga()).isEqualTo(new Shipping("order-1", 1));
        assertThat(entry.associationValues()).containsExactlyInAnyOrder(ORDER, CUSTOMER);
    }

    @Test
    void anUnknownSagaLoadsAsNull() {
        assertThat(store().loadSaga(Shipping.class, "no-such-saga")).isNull();
    }

    @Test
    void aSagaIsFoundByEachOfItsAssociationsAndByNoOther() {
        store().insertSaga(Shipping.class, "saga-1", new Shipping("order-1", 1), Set.of(ORDER));
        store().insertSaga(Shipping.class, "saga-2", new Shipping("order-2", 1),
                Set.of(new AssociationValue("orderId", "order-2"), CUSTOMER));

        assertThat(otherNode().findSagas(Shipping.class, ORDER)).containsExactly("saga-1");
        assertThat(otherNode().findSagas(Shipping.class, CUSTOMER)).containsExactly("saga-2");
        assertThat(otherNode().findSagas(Shipping.class, new AssociationValue("orderId", "order-3"))).isEmpty();
        assertThat(otherNode().findSagas(Billing.class, ORDER)).as("another saga type").isEmpty();
    }

    @Test
    void anUpdateReplacesTheStateAndAddsAndRemovesAssociations() {
        store().insertSaga(Shipping.class, "saga-1", new Shipping("order-1", 1), Set.of(ORDER));
        AssociationValues associations = new AssociationValuesImpl(
                store().loadSaga(Shipping.class, "saga-1").associationValues());
        AssociationValue added = new AssociationValue("parcel", "p-1");
        associations.add(added);
        store().updateSaga(Shipping.class, "saga-1", new Shipping("order-1", 2), associations);
        associations.commit();

        SagaStore.Entry<Shipping> afterAdding = otherNode().loadSaga(Shipping.class, "saga-1");
        associations.remove(ORDER);
        store().updateSaga(Shipping.class, "saga-1", new Shipping("order-1", 3), associations);
        associations.commit();

        assertThat(afterAdding.saga().attempts()).isEqualTo(2);
        assertThat(afterAdding.associationValues()).containsExactlyInAnyOrder(ORDER, added);
        assertThat(otherNode().findSagas(Shipping.class, ORDER)).isEmpty();
        assertThat(otherNode().findSagas(Shipping.class, added)).containsExactly("saga-1");
        SagaStore.Entry<Shipping> entry = otherNode().loadSaga(Shipping.class, "saga-1");
        assertThat(entry.saga().attempts()).isEqualTo(3);
        assertThat(entry.associationValues()).containsExactly(added);
    }

    @Test
    void anAssociationAddedAndRemovedAgainLeavesTheOthersFindable() {
        AssociationValues associations = new AssociationValuesImpl(Set.of(ORDER));
        store().insertSaga(Shipping.class, "saga-1", new Shipping("order-1", 1), associations.asSet());
        store().insertSaga(Shipping.class, "saga-2", new Shipping("order-2", 1), Set.of(CUSTOMER));
        store().loadSaga(Shipping.class, "saga-1");
        associations.add(CUSTOMER);
        store().updateSaga(Shipping.class, "saga-1", new Shipping("order-1", 2), associations);
        associations.commit();
        store().loadSaga(Shipping.class, "saga-1");
        associations.remove(CUSTOMER);
        store().updateSaga(Shipping.class, "saga-1", new Shipping("order-1", 3), associations);
        associations.commit();

        assertThat(otherNode().findSagas(Shipping.class, ORDER)).containsExactly("saga-1");
        assertThat(otherNode().findSagas(Shipping.class, CUSTOMER)).containsExactly("saga-2");
    }

    @Test
    void aDeletedSagaIsGoneWithItsAssociations() {
        store().insertSaga(Shipping.class, "saga-1", new Shipping("order-1", 1), Set.of(ORDER, CUSTOMER));
        store().loadSaga(Shipping.class, "saga-1");

        store().deleteSaga(Shipping.class, "saga-1", Set.of(ORDER, CUSTOMER));

        assertThat(otherNode().loadSaga(Shipping.class, "saga-1")).isNull();
        assertThat(otherNode().findSagas(Shipping.class, ORDER)).isEmpty();
        assertThat(otherNode().findSagas(Shipping.class, CUSTOMER)).isEmpty();
    }

    /** The state of a test saga; a record, so equality is by value. */
    public record Shipping(String orderId, int attempts) {
    }

    /** Another saga type, whose associations must not mix with {@link Shipping}'s. */
    public record Billing(String orderId) {
    }
}
