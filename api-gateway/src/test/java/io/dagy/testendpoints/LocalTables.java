package io.dagy.testendpoints;

import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.util.Map;
import java.util.UUID;

/** A fresh table of the catalogue on the shared DynamoDB Local, for tests that need one table and no application. */
public final class LocalTables {

    private LocalTables() {
    }

    /** A new client of the shared DynamoDB Local: one per simulated node. */
    public static DynamoDbClient dynamoDb() {
        return LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint());
    }

    /** Creates {@code table} under a name no other test uses, and returns that name. */
    public static String create(DagyTable table) {
        String name = table.defaultName("t" + UUID.randomUUID().toString().substring(0, 8));
        try (DynamoDbClient dynamoDb = dynamoDb()) {
            new TableBootstrap(dynamoDb).createMissing(Map.of(table, name));
        }
        return name;
    }
}
