package io.dagy.tables;

import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.TableDescription;
import software.amazon.awssdk.services.dynamodb.model.TimeToLiveStatus;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class TableBootstrapTest {

    private final DynamoDbClient dynamoDb = LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint());

    @Test
    void createsEveryTableOfTheCatalogWithItsKeysAndNothingTheSecondTime() {
        Map<DagyTable, String> names = namesFor("bootstrap-" + UUID.randomUUID().toString().substring(0, 8));
        TableBootstrap bootstrap = new TableBootstrap(dynamoDb);

        assertThat(bootstrap.createMissing(names)).containsExactlyInAnyOrderElementsOf(names.values());

        TableDescription events = dynamoDb.describeTable(b -> b.tableName(names.get(DagyTable.EVENTS))).table();
        assertThat(events.keySchema()).containsExactly(
                KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build(),
                KeySchemaElement.builder().attributeName("sk").keyType(KeyType.RANGE).build());
        assertThat(dynamoDb.describeTimeToLive(b -> b.tableName(names.get(DagyTable.RATE_LIMITS)))
                .timeToLiveDescription().attributeName()).isEqualTo("expires_at");
        assertThat(bootstrap.createMissing(names)).isEmpty();
    }

    @Test
    void tablesWithATimeToLiveHaveItTurnedOnAlsoWhenTheyExistedWithoutIt() {
        String name = DagyTable.ACCESS_LOGS.defaultName("ttl-" + UUID.randomUUID().toString().substring(0, 8));
        dynamoDb.createTable(b -> b.tableName(name).billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(AttributeDefinition.builder().attributeName("pk").attributeType("S").build(),
                        AttributeDefinition.builder().attributeName("sk").attributeType("S").build())
                .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build(),
                        KeySchemaElement.builder().attributeName("sk").keyType(KeyType.RANGE).build()));

        assertThat(new TableBootstrap(dynamoDb).createMissing(Map.of(DagyTable.ACCESS_LOGS, name))).isEmpty();

        var ttl = dynamoDb.describeTimeToLive(b -> b.tableName(name)).timeToLiveDescription();
        assertThat(ttl.timeToLiveStatus()).isIn(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING);
        assertThat(ttl.attributeName()).isEqualTo("expires_at");
    }

    @Test
    void everyTableHasItsOwnVariableAndDefaultName() {
        assertThat(Arrays.stream(DagyTable.values()).map(DagyTable::variable).distinct()).hasSize(DagyTable.values().length);
        assertThat(DagyTable.TASK_RUNS.defaultName("local")).isEqualTo("dagy-task-runs-local");
        assertThat(DagyTable.TASK_RUNS.variable()).isEqualTo("DAGY_TASK_RUNS");
    }

    private static Map<DagyTable, String> namesFor(String environment) {
        Map<DagyTable, String> names = new EnumMap<>(DagyTable.class);
        for (DagyTable table : DagyTable.values()) {
            names.put(table, table.defaultName(environment));
        }
        return names;
    }
}
