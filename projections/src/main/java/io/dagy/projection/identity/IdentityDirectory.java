package io.dagy.projection.identity;

import io.dagy.contracts.identity.ApiKeyId;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.OrganizationCommands;
import io.dagy.contracts.identity.OrganizationEvents.ApiKeyCreated;
import io.dagy.contracts.identity.OrganizationEvents.ApiKeyRevoked;
import io.dagy.contracts.identity.OrganizationEvents.MemberAdded;
import io.dagy.contracts.identity.OrganizationEvents.MemberRemoved;
import io.dagy.contracts.identity.OrganizationEvents.MemberRoleChanged;
import io.dagy.contracts.identity.OrganizationEvents.OrganizationCreated;
import io.dagy.contracts.identity.OrganizationEvents.OrganizationDeleted;
import io.dagy.contracts.identity.OrganizationQueries.ApiKeyView;
import io.dagy.contracts.identity.OrganizationQueries.MemberView;
import io.dagy.contracts.identity.OrganizationQueries.OrganizationView;
import io.dagy.contracts.identity.Role;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStore;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Who may do what, as authentication reads it on every request: organizations ({@code DAGY_ORGANIZATIONS}),
 * memberships ({@code DAGY_MEMBERSHIPS}) and API keys ({@code DAGY_API_KEYS}), built from the organizations' events.
 *
 * <p>Two writers keep it: the {@code identity-directory} projection, and the REST edge, which applies an
 * organization's events itself right after its command succeeds ({@link #catchUp}), so a revoked key or a removed
 * member is refused by every node as soon as the request that did it has been answered. Every row remembers the
 * sequence number of the organization event that last wrote it and takes only later ones (a conditional write), so
 * the two writers may run in any order, and replays change nothing.
 *
 * <p>Items: {@code org#<org>/org} (organization), {@code user#<user>/org#<org>} and {@code org#<org>/user#<user>}
 * (membership, by user and by organization), {@code hash#<sha256>/key} (key lookup) and {@code org#<org>/key#<id>}
 * (key listing). Removed memberships and revoked keys stay as tombstones.
 */
public final class IdentityDirectory {

    private final DynamoDbClient dynamoDb;
    private final String organizations;
    private final String memberships;
    private final String apiKeys;

    public IdentityDirectory(DynamoDbClient dynamoDb, String organizations, String memberships, String apiKeys) {
        this.dynamoDb = dynamoDb;
        this.organizations = organizations;
        this.memberships = memberships;
        this.apiKeys = apiKeys;
    }

    /** What a presented API key grants, if it is one of ours. */
    public record KeyGrant(OrgId org, ApiKeyId keyId, Role role, Instant expiresAt, boolean revoked) {
        public boolean usableAt(Instant now) {
            return !revoked && (expiresAt == null || now.isBefore(expiresAt));
        }
    }

    // ------------------------------------------------------------------ reads (strongly consistent)

    public Optional<KeyGrant> key(String hash) {
        return get(apiKeys, "hash#" + hash, "key").filter(item -> item.containsKey("org")).map(item -> new KeyGrant(
                new OrgId(item.get("org").s()), new ApiKeyId(item.get("key_id").s()), Role.fromCode(item.get("role").s()),
                item.containsKey("expires_at") ? Instant.parse(item.get("expires_at").s()) : null,
                item.containsKey("revoked") && item.get("revoked").bool()));
    }

    public Optional<Role> role(String userId, OrgId org) {
        return get(memberships, "user#" + userId, "org#" + org.value())
                .filter(item -> !removed(item) && item.containsKey("role"))
                .map(item -> Role.fromCode(item.get("role").s()));
    }

    /** The organizations a user is a member of. */
    public List<OrgId> organizationsOf(String userId) {
        return query(memberships, "user#" + userId, "org#").stream().filter(item -> !removed(item))
                .map(item -> new OrgId(item.get("sk").s().substring("org#".length()))).toList();
    }

    public Optional<OrganizationView> organization(OrgId org) {
        return get(organizations, "org#" + org.value(), "org").map(item -> new OrganizationView(org,
                item.get("name").s(), item.containsKey("deleted") && item.get("deleted").bool()));
    }

    public List<MemberView> members(OrgId org) {
        return query(memberships, "org#" + org.value(), "user#").stream().filter(item -> !removed(item))
                .map(item -> new MemberView(item.get("sk").s().substring("user#".length()), Role.fromCode(item.get("role").s())))
                .toList();
    }

    public List<ApiKeyView> keys(OrgId org) {
        return query(apiKeys, "org#" + org.value(), "key#").stream().filter(item -> item.containsKey("name"))
                .map(item -> new ApiKeyView(new ApiKeyId(item.get("key_id").s()), item.get("name").s(),
                        Role.fromCode(item.get("role").s()), item.get("prefix").s(), instant(item, "created_at"),
                        instant(item, "expires_at"), instant(item, "last_used_at"),
                        item.containsKey("revoked") && item.get("revoked").bool()))
                .toList();
    }

    /**
     * Records that a key was used, at most once a minute per key (a conditional update), so listing shows when a
     * key was last used without a write on every request.
     */
    public void touch(OrgId org, ApiKeyId keyId, Instant now) {
        try {
            dynamoDb.updateItem(b -> b.tableName(apiKeys)
                    .key(key("org#" + org.value(), "key#" + keyId.value()))
                    .updateExpression("SET last_used_at = :now")
                    .conditionExpression("attribute_exists(pk) AND (attribute_not_exists(last_used_at) OR last_used_at < :cutoff)")
                    .expressionAttributeValues(Map.of(":now", s(now.toString()), ":cutoff", s(now.minusSeconds(60).toString()))));
        } catch (ConditionalCheckFailedException recentlyTouched) {
            // used within the last minute: nothing to record
        }
    }

    // ------------------------------------------------------------------ writes

    /** Applies every event of the organization's stream, in order: what the REST edge calls after a command. */
    public void catchUp(EventStore eventStore, OrgId org) {
        eventStore.readEvents(OrganizationCommands.aggregateId(org)).asStream()
                .forEach(event -> apply(event.getPayload(), event.getSequenceNumber(), event.getTimestamp()));
    }

    /** Applies one organization event, unless a row already reflects a later one. */
    public void apply(Object event, long sequence, Instant at) {
        if (event instanceof OrganizationCreated created) {
            put(organizations, "org#" + created.organization().value(), "org", sequence,
                    Map.of("name", s(created.name()), "deleted", AttributeValue.fromBool(false)));
        } else if (event instanceof MemberAdded added) {
            putMember(added.organization(), added.userId(), added.role(), sequence);
        } else if (event instanceof MemberRoleChanged changed) {
            putMember(changed.organization(), changed.userId(), changed.role(), sequence);
        } else if (event instanceof MemberRemoved removed) {
            removeMember(removed.organization(), removed.userId(), sequence);
        } else if (event instanceof ApiKeyCreated created) {
            putKey(created, sequence, at);
        } else if (event instanceof ApiKeyRevoked revoked) {
            revoke(revoked.hash(), sequence);
            update(apiKeys, "org#" + revoked.organization().value(), "key#" + revoked.keyId().value(), sequence,
                    "revoked", AttributeValue.fromBool(true));
        } else if (event instanceof OrganizationDeleted deleted) {
            deleteOrganization(deleted.organization(), sequence);
        }
    }

    private void putKey(ApiKeyCreated created, long sequence, Instant at) {
        Map<String, AttributeValue> grant = new HashMap<>(Map.of("org", s(created.organization().value()),
                "key_id", s(created.keyId().value()), "role", s(created.role().code()),
                "revoked", AttributeValue.fromBool(false)));
        if (created.expiresAt() != null) {
            grant.put("expires_at", s(created.expiresAt().toString()));
        }
        put(apiKeys, "hash#" + created.hash(), "key", sequence, grant);
        Map<String, AttributeValue> listed = new HashMap<>(grant);
        listed.put("name", s(created.name()));
        listed.put("prefix", s(created.prefix()));
        listed.put("hash", s(created.hash()));
        listed.put("created_at", s(at.toString()));
        put(apiKeys, "org#" + created.organization().value(), "key#" + created.keyId().value(), sequence, listed);
    }

    /** Every key of a deleted organization is revoked and every membership removed. */
    private void deleteOrganization(OrgId org, long sequence) {
        update(organizations, "org#" + org.value(), "org", sequence, "deleted", AttributeValue.fromBool(true));
        for (var item : query(apiKeys, "org#" + org.value(), "key#")) {
            revoke(item.get("hash").s(), sequence);
            update(apiKeys, "org#" + org.value(), item.get("sk").s(), sequence, "revoked", AttributeValue.fromBool(true));
        }
        for (var item : query(memberships, "org#" + org.value(), "user#")) {
            removeMember(org, item.get("sk").s().substring("user#".length()), sequence);
        }
    }

    private void putMember(OrgId org, String userId, Role role, long sequence) {
        Map<String, AttributeValue> row = Map.of("role", s(role.code()), "removed", AttributeValue.fromBool(false));
        put(memberships, "user#" + userId, "org#" + org.value(), sequence, row);
        put(memberships, "org#" + org.value(), "user#" + userId, sequence, row);
    }

    private void removeMember(OrgId org, String userId, long sequence) {
        update(memberships, "user#" + userId, "org#" + org.value(), sequence, "removed", AttributeValue.fromBool(true));
        update(memberships, "org#" + org.value(), "user#" + userId, sequence, "removed", AttributeValue.fromBool(true));
    }

    private void revoke(String hash, long sequence) {
        update(apiKeys, "hash#" + hash, "key", sequence, "revoked", AttributeValue.fromBool(true));
    }

    /** Writes a whole row unless it already reflects this or a later event. */
    private void put(String table, String pk, String sk, long sequence, Map<String, AttributeValue> attributes) {
        Map<String, AttributeValue> item = new HashMap<>(attributes);
        item.putAll(key(pk, sk));
        item.put("seq", n(sequence));
        try {
            dynamoDb.putItem(b -> b.tableName(table).item(item)
                    .conditionExpression("attribute_not_exists(seq) OR seq < :seq")
                    .expressionAttributeValues(Map.of(":seq", n(sequence))));
        } catch (ConditionalCheckFailedException newer) {
            // the row already reflects this event or a later one
        }
    }

    /** Sets one attribute of a row unless it already reflects this or a later event. */
    private void update(String table, String pk, String sk, long sequence, String attribute, AttributeValue value) {
        try {
            dynamoDb.updateItem(b -> b.tableName(table).key(key(pk, sk))
                    .updateExpression("SET #a = :v, seq = :seq")
                    .conditionExpression("attribute_not_exists(seq) OR seq < :seq")
                    .expressionAttributeNames(Map.of("#a", attribute))
                    .expressionAttributeValues(Map.of(":v", value, ":seq", n(sequence))));
        } catch (ConditionalCheckFailedException newer) {
            // the row already reflects this event or a later one
        }
    }

    private Optional<Map<String, AttributeValue>> get(String table, String pk, String sk) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(key(pk, sk))).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(item);
    }

    private List<Map<String, AttributeValue>> query(String table, String pk, String skPrefix) {
        return dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true)
                        .keyConditionExpression("pk = :pk AND begins_with(sk, :prefix)")
                        .expressionAttributeValues(Map.of(":pk", s(pk), ":prefix", s(skPrefix))))
                .items().stream().toList();
    }

    private static boolean removed(Map<String, AttributeValue> item) {
        return item.containsKey("removed") && item.get("removed").bool();
    }

    private static Instant instant(Map<String, AttributeValue> item, String attribute) {
        return item.containsKey(attribute) ? Instant.parse(item.get(attribute).s()) : null;
    }

    private static Map<String, AttributeValue> key(String pk, String sk) {
        return Map.of("pk", s(pk), "sk", s(sk));
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private static AttributeValue n(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }
}
