package io.dagy.eventstore.support;

import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.LocalStack;
import io.dagy.localstack.SharedLocalStack;
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import io.dagy.localstack.LocalStack;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;

/** Fresh event-store tables on the shared DynamoDB Local, so tests never see each other's data. */
public final class TestTables {

    private static final DynamoDbClient DYNAMO_DB = LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint());

    private final Map<DagyTable, String> names;

    private TestTables(Map<DagyTable, String> names) {
        this.names = names;
    }

    /** Creates the given tables under unique names (creating a table takes DynamoDB Local a moment: ask only for what a test needs). */
    public static TestTables create(DagyTable... needed) {
        String environment = "t" + UUID.randomUUID().toString().substring(0, 8);
        Map<DagyTable, String> names = new EnumMap<>(DagyTable.class);
        for (DagyTable table : needed) {
            names.put(table, table.defaultName(environment));
        }
        new TableBootstrap(DYNAMO_DB).createMissing(names);
        return new TestTables(names);
    }

    public static DynamoDbClient dynamoDb() {
        return DYNAMO_DB;
    }

    /**
     * A second client on the same DynamoDB Local whose requests pass through the given interceptors (to inject
     * failures DynamoDB Local never produces, or to run something between two requests of the code under test).
     */
    public static DynamoDbClient dynamoDbWith(ExecutionInterceptor... interceptors) {
        return DynamoDbClient.builder()
                .endpointOverride(SharedLocalStack.get().dynamoDbEndpoint())
                .region(Region.of(LocalStack.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(LocalStack.ACCESS_KEY, LocalStack.SECRET_KEY)))
                .overrideConfiguration(o -> {
                    for (ExecutionInterceptor interceptor : interceptors) {
                        o.addExecutionInterceptor(interceptor);
                    }
                })
                .build();
    }

    public String name(DagyTable table) {
        return names.get(table);
    }
}
