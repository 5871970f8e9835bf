package io.dagy.eventstore.contract;

import io.dagy.eventstore.deadlines.DynamoDeadlineManager;
import io.dagy.eventstore.events.DynamoEventStorageEngine;
import io.dagy.eventstore.sagas.DynamoSagaStore;
import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.Configuration;
import org.axonframework.config.ConfigurationScopeAwareProvider;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.deadline.DeadlineManagerSpanFactory;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.modelling.saga.repository.SagaStore;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Axon's deadline-manager contract against Dagy's manager, event store and saga store on DynamoDB Local. */
class DynamoDeadlineManagerContractTest extends DeadlineManagerContract {

    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS, DagyTable.SAGAS,
            DagyTable.DEADLINES);
    private final DynamoTransactionManager transactions = new DynamoTransactionManager(TestTables.dynamoDb());
    private final DynamoSagaStore sagaStore = new DynamoSagaStore(TestTables.dynamoDb(), tables.name(DagyTable.SAGAS),
            TestSerializer.jackson());

    @Override
    protected EventStorageEngine storageEngine() {
        return DynamoEventStorageEngine.builder()
                .dynamoDb(TestTables.dynamoDb())
                .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                .eventSerializer(TestSerializer.jackson())
                .snapshotSerializer(TestSerializer.jackson())
                .build();
    }

    @Override
    protected SagaStore<Object> sagaStore() {
        return sagaStore;
    }

    @Override
    protected TransactionManager transactionManager() {
        return transactions;
    }

    @Override
    protected DeadlineManager buildDeadlineManager(Configuration configuration) {
        return DynamoDeadlineManager.builder()
                .dynamoDb(TestTables.dynamoDb())
                .tableName(tables.name(DagyTable.DEADLINES))
                .scopeAwareProvider(new ConfigurationScopeAwareProvider(configuration))
                .serializer(TestSerializer.jackson())
                .transactionManager(configuration.getComponent(TransactionManager.class))
                .spanFactory(configuration.getComponent(DeadlineManagerSpanFactory.class))
                .nodeId("node-a")
                .pollInterval(Duration.ofMillis(100))
                .claimLease(Duration.ofSeconds(10))
                .retryBackoff(Duration.ofMillis(100))
                .maxAttempts(2)
                .build();
    }

    /**
     * Deviation: Axon's simple manager logs a failed firing and drops the deadline; ours fires it again after a
     * back-off and parks it after {@code maxAttempts} firings (2 here), publishing nothing of any failed attempt.
     */
    @Test
    void deviationAFiringThatKeepsFailingIsRetriedThenParked() {
        deadlines.registerHandlerInterceptor((unitOfWork, chain) -> {
            chain.proceed();
            throw new IllegalStateException("the handler fails after it applied its event");
        });
        send(new OpenOrder("order-1"));

        String id = scheduleOn("order-1", "note", "doomed", Duration.ZERO);

        DynamoDeadlineManager manager = (DynamoDeadlineManager) deadlines;
        await().atMost(Duration.ofSeconds(20)).until(() -> !manager.parkedDeadlines().isEmpty());
        assertThat(manager.parkedDeadlines()).singleElement().satisfies(parked -> {
            assertThat(parked.scheduleId()).isEqualTo(id);
            assertThat(parked.attempts()).isEqualTo(2);
        });
        assertThat(spans.ended("DeadlineManager.executeDeadline(note)")).hasSize(2)
                .allSatisfy(span -> assertThat(span.exceptions()).isNotEmpty());
        assertThat(fired()).isEmpty();
    }

    @Override
    protected void started(DeadlineManager manager) {
        ((DynamoDeadlineManager) manager).start();
    }
}
