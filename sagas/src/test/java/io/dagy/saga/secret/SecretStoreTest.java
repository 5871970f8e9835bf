package io.dagy.saga.secret;

import io.dagy.contracts.identity.OrgId;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import org.junit.jupiter.api.Test;
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Secrets in a DAGY_SECRETS table on DynamoDB Local, as the deployment guide's Fernet tokens. */
class SecretStoreTest {

    /** A Fernet key made for this test only. */
    static final String KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
    /** {@code Fernet(KEY).encrypt(b'made-by-python')} with Python's {@code cryptography} package. */
    static final String PYTHON_TOKEN = "gAAAAABrDRogtgvBUn6-YpNaQjNeZH4k7SnVi1jvQa71zz-Dt_rejxzts9nXLyjA0uRx__14GbSgaI3dpnL1OJ7DGxdZWGoDzQ==";
    static final OrgId ORG = new OrgId("acme");

    final DynamoDbClient dynamoDb = LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint());
    final String table = table();

    private String table() {
        String name = "secrets-" + UUID.randomUUID().toString().substring(0, 8);
        new TableBootstrap(dynamoDb).createMissing(Map.of(DagyTable.SECRETS, name));
        return name;
    }

    @Test
    void aValueWrittenByPythonsFernetIsReadAtDispatch() {
        dynamoDb.putItem(b -> b.tableName(table).item(Map.of(
                "pk", AttributeValue.fromS("org#acme"), "sk", AttributeValue.fromS("secret#github-token"),
                "secret_id", AttributeValue.fromS("sec_12345"), "org_id", AttributeValue.fromS("acme"),
                "name", AttributeValue.fromS("github-token"), "encrypted_value", AttributeValue.fromS(PYTHON_TOKEN),
                "created_at", AttributeValue.fromN("1704067200"), "created_by", AttributeValue.fromS("user_123"))));

        assertThat(new SecretStore(dynamoDb, table, KEY).resolve(ORG, List.of("github-token")))
                .containsExactly(Map.entry("github-token", "made-by-python"));
    }

    @Test
    void aValueIsStoredOnlyAsAFernetTokenAndReadOnlyByResolve() {
        SecretStore store = new SecretStore(dynamoDb, table, KEY);

        SecretStore.Secret created = store.put(ORG, "db-password", "hunter2", "user:alice");
        store.put(ORG, "db-password", "hunter3", "user:bob");

        Map<String, AttributeValue> item = dynamoDb.getItem(b -> b.tableName(table).key(Map.of(
                "pk", AttributeValue.fromS("org#acme"), "sk", AttributeValue.fromS("secret#db-password")))).item();
        assertThat(item.get("encrypted_value").s()).startsWith("gAAAAA").doesNotContain("hunter");
        assertThat(item.toString()).doesNotContain("hunter");
        assertThat(store.find(ORG, "db-password")).hasValueSatisfying(secret -> {
            assertThat(secret.secretId()).isEqualTo(created.secretId()); // a replacement keeps its id and creation
            assertThat(secret.createdBy()).isEqualTo("user:alice");
            assertThat(secret.updatedBy()).isEqualTo("user:bob");
        });
        assertThat(store.resolve(ORG, List.of("db-password"))).containsExactly(Map.entry("db-password", "hunter3"));
    }

    @Test
    void anotherOrganizationsSecretDoesNotResolve() {
        new SecretStore(dynamoDb, table, KEY).put(new OrgId("other"), "db-password", "x", "user:eve");

        assertThatThrownBy(() -> new SecretStore(dynamoDb, table, KEY).resolve(ORG, List.of("db-password")))
                .isInstanceOf(SecretUnavailableException.class).hasMessageContaining("'db-password' does not exist");
    }

    @Test
    void aValueUnderAnotherKeyCannotBeDecryptedAndTheMessageHoldsNoValue() {
        new SecretStore(dynamoDb, table, KEY).put(ORG, "db-password", "hunter2", "user:alice");
        String otherKey = com.macasaet.fernet.Key.generateKey().serialise();

        assertThatThrownBy(() -> new SecretStore(dynamoDb, table, otherKey).resolve(ORG, List.of("db-password")))
                .isInstanceOf(SecretUnavailableException.class).hasMessageContaining("cannot be decrypted")
                .hasMessageNotContaining("hunter2");
    }
}
