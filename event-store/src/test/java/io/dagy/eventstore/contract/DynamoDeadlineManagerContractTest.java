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

import java.time.Duration;

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

    @Override
    protected void started(DeadlineManager manager) {
        ((DynamoDeadlineManager) manager).start();
    }
}
