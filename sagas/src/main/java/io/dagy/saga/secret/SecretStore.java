package io.dagy.saga.secret;

import com.macasaet.fernet.Key;
import com.macasaet.fernet.StringValidator;
import com.macasaet.fernet.Token;
import com.macasaet.fernet.TokenValidationException;
import io.dagy.contracts.identity.OrgId;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.TemporalAmount;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * An organization's secrets in {@code DAGY_SECRETS}, each value a Fernet token under {@code DAGY_SECRETS_KEY} (the
 * deployment guide's format, so Python's {@code cryptography.fernet} reads and writes the same values). Items are
 * {@code pk = org#<org>, sk = secret#<name>} with the guide's fields ({@code secret_id}, {@code org_id}, {@code name},
 * {@code encrypted_value}, {@code created_at}, {@code created_by}). Values are decrypted only by {@link #resolve}, at
 * dispatch; everything else sees {@link Secret}, which has no value.
 */
public final class SecretStore implements SecretResolver {

    private static final Pattern VALID_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    /** A Fernet token has a time stamp; stored secrets do not expire, so the validator accepts any age. */
    private static final StringValidator NO_EXPIRY = new StringValidator() {
        @Override
        public TemporalAmount getTimeToLive() {
            return Duration.ofDays(365L * 1000);
        }
    };
    public static final int MAX_VALUE_BYTES = 32 * 1024;

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Key key;

    /** @param fernetKey {@code DAGY_SECRETS_KEY}: 32 bytes, URL-safe Base64, as {@code Fernet.generate_key()} makes */
    public SecretStore(DynamoDbClient dynamoDb, String table, String fernetKey) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.key = new Key(fernetKey);
    }

    /** A secret as anyone but a dispatch sees it: never its value. */
    public record Secret(String secretId, String name, Instant createdAt, String createdBy, Instant updatedAt,
                         String updatedBy) {
    }

    public static boolean isValidName(String name) {
        return name != null && VALID_NAME.matcher(name).matches();
    }

    /** Creates or replaces a secret; its id and creation stay when it is replaced. */
    public Secret put(OrgId org, String name, String value, String actor) {
        Instant now = Instant.now();
        String token = Token.generate(key, value).serialise();
        Map<String, AttributeValue> item = dynamoDb.updateItem(b -> b.tableName(table).key(key(org, name))
                .updateExpression("SET secret_id = if_not_exists(secret_id, :id), org_id = :org, #name = :name, "
                        + "encrypted_value = :value, created_at = if_not_exists(created_at, :now), "
                        + "created_by = if_not_exists(created_by, :actor), updated_at = :now, updated_by = :actor")
                .expressionAttributeNames(Map.of("#name", "name"))
                .expressionAttributeValues(Map.of(
                        ":id", AttributeValue.fromS("sec_" + UUID.randomUUID().toString().replace("-", "")),
                        ":org", AttributeValue.fromS(org.value()),
                        ":name", AttributeValue.fromS(name),
                        ":value", AttributeValue.fromS(token),
                        ":now", AttributeValue.fromN(Long.toString(now.getEpochSecond())),
                        ":actor", AttributeValue.fromS(actor)))
                .returnValues(software.amazon.awssdk.services.dynamodb.model.ReturnValue.ALL_NEW)).attributes();
        return secret(item);
    }

    public Optional<Secret> find(OrgId org, String name) {
        Map<String, AttributeValue> item = dynamoDb.getItem(b -> b.tableName(table).key(key(org, name))
                .consistentRead(true)).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(secret(item));
    }

    /** The organization's secrets by name, without values. */
    public List<Secret> list(OrgId org) {
        List<Secret> secrets = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> from = start;
            QueryResponse page = dynamoDb.query(b -> b.tableName(table).keyConditionExpression("pk = :pk")
                    .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("org#" + org.value())))
                    .projectionExpression("secret_id, #name, created_at, created_by, updated_at, updated_by")
                    .expressionAttributeNames(Map.of("#name", "name"))
                    .exclusiveStartKey(from));
            page.items().forEach(item -> secrets.add(secret(item)));
            start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
        } while (start != null);
        return secrets;
    }

    /** Deletes a secret; false if there was none. */
    public boolean delete(OrgId org, String name) {
        Map<String, AttributeValue> old = dynamoDb.deleteItem(b -> b.tableName(table).key(key(org, name))
                .returnValues(software.amazon.awssdk.services.dynamodb.model.ReturnValue.ALL_OLD)).attributes();
        return old != null && !old.isEmpty();
    }

    @Override
    public Map<String, String> resolve(OrgId org, Collection<String> names) {
        if (names.isEmpty()) {
            return Map.of();
        }
        List<String> wanted = List.copyOf(new LinkedHashSet<>(names));
        Map<String, String> values = new HashMap<>();
        for (int from = 0; from < wanted.size(); from += 100) {
            List<Map<String, AttributeValue>> keys = wanted.subList(from, Math.min(wanted.size(), from + 100)).stream()
                    .filter(SecretStore::isValidName).map(name -> key(org, name)).toList();
            Map<String, KeysAndAttributes> request = Map.of(table, KeysAndAttributes.builder().keys(keys)
                    .consistentRead(true).build());
            while (!request.isEmpty() && !keys.isEmpty()) {
                Map<String, KeysAndAttributes> ask = request;
                var response = dynamoDb.batchGetItem(b -> b.requestItems(ask));
                for (Map<String, AttributeValue> item : response.responses().getOrDefault(table, List.of())) {
                    values.put(item.get("name").s(), decrypt(item.get("name").s(), item.get("encrypted_value").s()));
                }
                request = response.unprocessedKeys();
            }
        }
        for (String name : wanted) {
            if (!values.containsKey(name)) {
                throw new SecretUnavailableException("secret '" + name + "' does not exist in organization "
                        + org.value());
            }
        }
        return values;
    }

    private String decrypt(String name, String token) {
        try {
            return Token.fromString(token).validateAndDecrypt(key, NO_EXPIRY);
        } catch (TokenValidationException | IllegalArgumentException e) {
            throw new SecretUnavailableException("secret '" + name + "' cannot be decrypted with DAGY_SECRETS_KEY");
        }
    }

    private static Map<String, AttributeValue> key(OrgId org, String name) {
        return Map.of("pk", AttributeValue.fromS("org#" + org.value()), "sk", AttributeValue.fromS("secret#" + name));
    }

    private static Secret secret(Map<String, AttributeValue> item) {
        return new Secret(item.get("secret_id").s(), item.get("name").s(), instant(item.get("created_at")),
                text(item.get("created_by")), instant(item.get("updated_at")), text(item.get("updated_by")));
    }

    private static Instant instant(AttributeValue value) {
        return value == null || value.n() == null ? null : Instant.ofEpochSecond(Long.parseLong(value.n()));
    }

    private static String text(AttributeValue value) {
        return value == null ? null : value.s();
    }
}
