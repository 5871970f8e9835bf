package io.dagy.tables;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TimeToLiveStatus;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Creates the tables of {@link DagyTable} that do not exist yet, and turns on the time to live of those whose design
 * has one (also on tables that an older version created without it). Used by the local profile and by tests only: on
 * AWS the CDK app owns the tables and the application never creates or changes them.
 */
public final class TableBootstrap {

    private static final Logger log = LoggerFactory.getLogger(TableBootstrap.class);

    private final DynamoDbClient dynamoDb;

    public TableBootstrap(DynamoDbClient dynamoDb) {
        this.dynamoDb = dynamoDb;
    }

    /**
     * Creates every missing table and returns the names it created.
     *
     * @param names the physical name of each table
     */
    public List<String> createMissing(Map<DagyTable, String> names) {
        Set<String> existing = new HashSet<>();
        dynamoDb.listTablesPaginator().tableNames().forEach(existing::add);
        List<String> created = names.entrySet().stream()
                .filter(e -> !existing.contains(e.getValue()))
                .map(e -> create(e.getKey(), e.getValue()))
                .toList();
        if (!created.isEmpty()) {
            log.info("Created {} DynamoDB tables", created.size());
        }
        names.forEach((table, name) -> table.design().timeToLive()
                .ifPresent(attribute -> enableTimeToLive(name, attribute, created.contains(name))));
        return created;
    }

    private void enableTimeToLive(String name, String attribute, boolean created) {
        if (!created) {
            var current = dynamoDb.describeTimeToLive(b -> b.tableName(name)).timeToLiveDescription();
            if (current.timeToLiveStatus() == TimeToLiveStatus.ENABLED
                    || current.timeToLiveStatus() == TimeToLiveStatus.ENABLING) {
                return;
            }
        }
        dynamoDb.updateTimeToLive(b -> b.tableName(name)
                .timeToLiveSpecification(ttl -> ttl.attributeName(attribute).enabled(true)));
    }

    private String create(DagyTable table, String name) {
        TableDesign design = table.design();
        try {
            dynamoDb.createTable(b -> b.tableName(name)
                    .billingMode(BillingMode.PAY_PER_REQUEST)
                    .attributeDefinitions(definition(design.partitionKey()), definition(design.sortKey()))
                    .keySchema(key(design.partitionKey(), KeyType.HASH), key(design.sortKey(), KeyType.RANGE)));
        } catch (ResourceInUseException raced) {
            // another node or test created it between our listing and our create: that is the goal anyway
            log.debug("Table {} appeared while creating it", name);
        }
        dynamoDb.waiter().waitUntilTableExists(b -> b.tableName(name));
        return name;
    }

    private static AttributeDefinition definition(TableDesign.Key key) {
        return AttributeDefinition.builder().attributeName(key.name())
                .attributeType(ScalarAttributeType.fromValue(key.type().name())).build();
    }

    private static KeySchemaElement key(TableDesign.Key key, KeyType type) {
        return KeySchemaElement.builder().attributeName(key.name()).keyType(type).build();
    }
}
