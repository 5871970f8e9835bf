package io.dagy.projection.user;

import io.dagy.contracts.user.UserId;
import io.dagy.contracts.user.UserView;
import io.dagy.eventstore.views.ViewItems;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.Map;
import java.util.Optional;

/**
 * Who is a user of Dagy, as the {@code user-directory} projection last heard from the identity provider. Reads are
 * strongly consistent: a change is visible here as soon as the projection has written it (usually well under a
 * second after the webhook was acknowledged), never later on another node.
 */
public class UserDirectory {

    /** What the directory knows of a user id. */
    public enum Status {
        /** Registered and not deleted. */
        ACTIVE,
        /** Deleted at the identity provider; a deleted user never becomes active again. */
        DELETED,
        /** Never heard of (not yet delivered, or not a valid user id). */
        UNKNOWN
    }

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;

    public UserDirectory(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
    }

    /** Whether the provider's user id (a token's {@code sub}, e.g. {@code user_2abc}) is a registered, undeleted user. */
    public boolean isActive(String providerUserId) {
        return status(providerUserId) == Status.ACTIVE;
    }

    /** One consistent read of the user's {@code deleted} flag; no read at all for an id of the wrong shape. */
    public Status status(String providerUserId) {
        if (!UserId.isValid(providerUserId)) {
            return Status.UNKNOWN;
        }
        Map<String, AttributeValue> item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true)
                .key(UserDirectoryProjection.key(providerUserId))
                .projectionExpression("#deleted")
                .expressionAttributeNames(Map.of("#deleted", UserDirectoryProjection.DELETED))).item();
        if (item == null || item.isEmpty()) {
            return Status.UNKNOWN;
        }
        return Boolean.TRUE.equals(item.get(UserDirectoryProjection.DELETED).bool()) ? Status.DELETED : Status.ACTIVE;
    }

    /** The user's view (a deleted user's has neither email nor name). */
    public Optional<UserView> find(String providerUserId) {
        if (!UserId.isValid(providerUserId)) {
            return Optional.empty();
        }
        Map<String, AttributeValue> item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true)
                .key(UserDirectoryProjection.key(providerUserId))).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(ViewItems.view(item, serializer));
    }
}
