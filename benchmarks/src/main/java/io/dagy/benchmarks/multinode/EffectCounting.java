package io.dagy.benchmarks.multinode;

import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventMessage;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.util.Map;

/**
 * Added to each node of the kill test ({@code --spring.main.sources}): one more event processor, configured like every
 * other (pooled, {@code DAGY_PROCESSOR_SEGMENTS} segments, shared by the segment balancer, dead-lettered), whose only
 * handler counts. For every domain event it adds 1 to an item {@code pk = kill-effect#<aggregate id>},
 * {@code sk = <sequence number>} in {@code DAGY_TASK_RUNS}, inside the processor's transaction, and adds the node's id
 * to the item's set of nodes. The counter is deliberately not idempotent: an event handled twice by any node, in any
 * segment, across any handover, shows as a count of 2. The harness compares the counters with the events table.
 */
@Configuration(proxyBeanMethods = false)
public class EffectCounting {

    static final String PROCESSING_GROUP = "kill-test-effects";
    static final String PREFIX = "kill-effect#";

    @Bean
    EffectCounter killTestEffectCounter(DynamoDbClient dynamoDb, DagyResources resources,
                                        @Value("${dagy.event-store.node-id}") String nodeId) {
        return new EffectCounter(dynamoDb, resources.table(DagyTable.TASK_RUNS), nodeId);
    }

    @ProcessingGroup(PROCESSING_GROUP)
    static final class EffectCounter {

        private final DynamoDbClient dynamoDb;
        private final String table;
        private final String nodeId;

        EffectCounter(DynamoDbClient dynamoDb, String table, String nodeId) {
            this.dynamoDb = dynamoDb;
            this.table = table;
            this.nodeId = nodeId;
        }

        @EventHandler
        void on(Object payload, EventMessage<?> message) {
            if (!(message instanceof DomainEventMessage<?> event)) {
                return;
            }
            Map<String, AttributeValue> key = Map.of(
                    "pk", AttributeValue.fromS(PREFIX + event.getAggregateIdentifier()),
                    "sk", AttributeValue.fromS(Long.toString(event.getSequenceNumber())));
            Update update = Update.builder().tableName(table).key(key)
                    .updateExpression("ADD n :one, nodes :node")
                    .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"),
                            ":node", AttributeValue.fromSs(java.util.List.of(nodeId))))
                    .build();
            DynamoTransaction transaction = DynamoTransactionManager.current().orElse(null);
            if (transaction == null) {
                dynamoDb.updateItem(b -> b.tableName(table).key(key).updateExpression(update.updateExpression())
                        .expressionAttributeValues(update.expressionAttributeValues()));
                return;
            }
            transaction.write(new DynamoTransaction.ItemKey(table, key), TransactWriteItem.builder().update(update).build(),
                    IllegalStateException::new);
        }
    }
}
