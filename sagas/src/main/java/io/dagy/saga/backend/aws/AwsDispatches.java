package io.dagy.saga.backend.aws;

import io.dagy.contracts.deployment.BackendType;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * What Dagy started on AWS, one item per dispatch id in {@code DAGY_TASK_RUNS} ({@code pk = aws-dispatch#<name>}).
 * The item is written with a conditional put before anything is started, so a dispatch id is started by one node
 * only; it then records the AWS handle (execution or task ARN) that a cancel stops, and a cancel marks it, so a start
 * that was still under way on another node stops what it started.
 *
 * <p>The <em>execution name</em> of a dispatch ({@link #executionName}) is what AWS sees: the Step Functions execution
 * name, the ECS {@code startedBy} and {@code clientToken}, and a field of the Lambda payload. AWS limits these to
 * 36-80 characters without {@code /}, so it is {@code dagy-} and 32 hex digits of the dispatch id's SHA-256; the item
 * maps it back to the dispatch id when a state change arrives.
 */
public final class AwsDispatches {

    private static final String PREFIX = "aws-dispatch#";

    private final DynamoDbClient dynamoDb;
    private final String table;

    public AwsDispatches(DynamoDbClient dynamoDb, String table) {
        this.dynamoDb = dynamoDb;
        this.table = table;
    }

    /** One dispatch as recorded; {@code handle} is null until the start returned. */
    public record Record(String executionName, String dispatchId, BackendType backend, String handle, String scope,
                         boolean cancelRequested) {
    }

    /** The name AWS knows a dispatch by: {@code dagy-} and 32 hex digits (128 bits) of SHA-256 of the dispatch id. */
    public static String executionName(String dispatchId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(dispatchId.getBytes(StandardCharsets.UTF_8));
            return "dagy-" + HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Records the dispatch unless it was recorded before; then returns the earlier record. */
    Optional<Record> claim(String dispatchId, BackendType backend) {
        String name = executionName(dispatchId);
        try {
            dynamoDb.putItem(b -> b.tableName(table).item(Map.of(
                            "pk", AttributeValue.fromS(PREFIX + name),
                            "sk", AttributeValue.fromS("dispatch"),
                            "dispatch_id", AttributeValue.fromS(dispatchId),
                            "backend", AttributeValue.fromS(backend.wire()),
                            "at", AttributeValue.fromS(Instant.now().toString())))
                    .conditionExpression("attribute_not_exists(pk)"));
            return Optional.empty();
        } catch (ConditionalCheckFailedException recordedBefore) {
            return find(name);
        }
    }

    /** The record of an execution name (strongly consistent), if Dagy dispatched it. */
    public Optional<Record> find(String executionName) {
        Map<String, AttributeValue> item = dynamoDb.getItem(b -> b.tableName(table).key(key(executionName))
                .consistentRead(true)).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(record(item));
    }

    /** Records what AWS started; returns the record as it is now (a cancel may have come meanwhile). */
    Record started(String dispatchId, String handle, String scope) {
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":handle", AttributeValue.fromS(handle));
        values.put(":scope", scope == null ? AttributeValue.fromNul(true) : AttributeValue.fromS(scope));
        return record(dynamoDb.updateItem(b -> b.tableName(table).key(key(executionName(dispatchId)))
                .updateExpression("SET handle = :handle, handle_scope = :scope")
                .expressionAttributeValues(values).returnValues(ReturnValue.ALL_NEW)).attributes());
    }

    /** Marks the dispatch cancelled; the record as it is now, or empty if it was never dispatched. */
    Optional<Record> requestCancel(String dispatchId) {
        try {
            return Optional.of(record(dynamoDb.updateItem(b -> b.tableName(table).key(key(executionName(dispatchId)))
                    .updateExpression("SET cancel_requested = :yes").conditionExpression("attribute_exists(pk)")
                    .expressionAttributeValues(Map.of(":yes", AttributeValue.fromBool(true)))
                    .returnValues(ReturnValue.ALL_NEW)).attributes()));
        } catch (ConditionalCheckFailedException neverDispatched) {
            return Optional.empty();
        }
    }

    private static Map<String, AttributeValue> key(String executionName) {
        return Map.of("pk", AttributeValue.fromS(PREFIX + executionName), "sk", AttributeValue.fromS("dispatch"));
    }

    private static Record record(Map<String, AttributeValue> item) {
        return new Record(item.get("pk").s().substring(PREFIX.length()), item.get("dispatch_id").s(),
                BackendType.fromWire(item.get("backend").s()).orElseThrow(),
                text(item, "handle"), text(item, "handle_scope"),
                item.containsKey("cancel_requested") && Boolean.TRUE.equals(item.get("cancel_requested").bool()));
    }

    private static String text(Map<String, AttributeValue> item, String name) {
        AttributeValue value = item.get(name);
        return value == null || value.s() == null ? null : value.s();
    }
}
