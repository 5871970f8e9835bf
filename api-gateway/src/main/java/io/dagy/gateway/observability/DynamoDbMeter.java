package io.dagy.gateway.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.TransactGetItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Counts every DynamoDB request this node sends, and the throttled ones, by table and operation (an AWS SDK
 * {@link ExecutionInterceptor} on the node's DynamoDB client). A request is counted per attempt sent on the wire, so
 * the SDK's own retries count as the requests DynamoDB bills; a throttle is counted when a call fails with a
 * throttling error after the SDK's retries, or when a transaction is cancelled for throttling. Throttles the SDK
 * retried away show only as extra requests. A request over several tables (a transaction, a batch) is counted under
 * the sorted names of its tables joined by {@code +}.
 */
final class DynamoDbMeter implements ExecutionInterceptor {

    static final String REQUESTS = "dagy.dynamodb.requests";
    static final String THROTTLES = "dagy.dynamodb.throttles";

    private static final Set<String> THROTTLING = Set.of("ProvisionedThroughputExceededException",
            "ThrottlingException", "RequestLimitExceeded", "ThrottlingError", "ProvisionedThroughputExceeded");

    private static final ExecutionAttribute<String> TABLE = new ExecutionAttribute<>("dagy.table");

    private final MeterRegistry registry;
    /** The counters by name, table and operation: registering one per request cost the registry's lookup each time. */
    private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();

    DynamoDbMeter(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        attributes.putAttribute(TABLE, tableOf(context.request()));
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        counter(REQUESTS, attributes).increment();
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
        if (throttled(context.exception())) {
            counter(THROTTLES, attributes).increment();
        }
    }

    private Counter counter(String name, ExecutionAttributes attributes) {
        String operation = Optional.ofNullable(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME)).orElse("unknown");
        String table = Optional.ofNullable(attributes.getAttribute(TABLE)).orElse("none");
        return counters.computeIfAbsent(List.of(name, table, operation), key ->
                Counter.builder(name).tag("table", table).tag("operation", operation).register(registry));
    }

    static boolean throttled(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof TransactionCanceledException cancelled && cancelled.hasCancellationReasons()
                    && cancelled.cancellationReasons().stream().map(CancellationReason::code).anyMatch(THROTTLING::contains)) {
                return true;
            }
            if (cause instanceof DynamoDbException dynamo && dynamo.awsErrorDetails() != null
                    && THROTTLING.contains(dynamo.awsErrorDetails().errorCode())) {
                return true;
            }
        }
        return false;
    }

    static String tableOf(SdkRequest request) {
        Optional<String> single = request.getValueForField("TableName", String.class);
        if (single.isPresent()) {
            return single.get();
        }
        Set<String> tables = new TreeSet<>();
        if (request instanceof TransactWriteItemsRequest transact) {
            for (TransactWriteItem item : transact.transactItems()) {
                Stream.of(item.put() == null ? null : item.put().tableName(),
                                item.update() == null ? null : item.update().tableName(),
                                item.delete() == null ? null : item.delete().tableName(),
                                item.conditionCheck() == null ? null : item.conditionCheck().tableName())
                        .filter(java.util.Objects::nonNull).forEach(tables::add);
            }
        } else if (request instanceof TransactGetItemsRequest transact) {
            transact.transactItems().forEach(item -> tables.add(item.get().tableName()));
        } else if (request instanceof BatchGetItemRequest batch) {
            tables.addAll(batch.requestItems().keySet());
        } else if (request instanceof BatchWriteItemRequest batch) {
            tables.addAll(batch.requestItems().keySet());
        }
        return tables.isEmpty() ? "none" : String.join("+", (Collection<String>) tables);
    }
}
