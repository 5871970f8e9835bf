package io.dagy.benchmarks.orchestration;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts every AWS request this JVM sends, by service and operation: the SDK loads it for every client as a global
 * interceptor (listed in {@code software/amazon/awssdk/global/handlers/execution.interceptors}). Requests are what an
 * installation pays for on AWS, so they are the benchmark's measure of per-task cost besides CPU time.
 */
public final class AwsRequestCounter implements ExecutionInterceptor {

    private static final Map<String, LongAdder> COUNTS = new ConcurrentHashMap<>();

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        String service = attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME);
        String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
        COUNTS.computeIfAbsent(service + "." + operation + table(context.request()), key -> new LongAdder()).increment();
    }

    /** The tables a DynamoDB request is about (all of a transaction's, sorted), as {@code @name+name}. */
    private static String table(SdkRequest request) {
        Optional<String> table = request.getValueForField("TableName", String.class);
        if (table.isEmpty() && request instanceof TransactWriteItemsRequest transaction && transaction.hasTransactItems()) {
            Set<String> tables = new TreeSet<>();
            for (TransactWriteItem item : transaction.transactItems()) {
                String name = item.put() != null ? item.put().tableName()
                        : item.update() != null ? item.update().tableName()
                        : item.delete() != null ? item.delete().tableName()
                        : item.conditionCheck() != null ? item.conditionCheck().tableName() : null;
                if (name != null) {
                    tables.add(shortName(name));
                }
            }
            return tables.isEmpty() ? "" : "@" + String.join("+", tables);
        }
        return table.map(name -> "@" + shortName(name)).orElse("");
    }

    private static String shortName(String table) {
        return table.replaceFirst("^dagy-", "").replaceFirst("-bench$", "");
    }

    /** The counts so far, by {@code service.operation}. */
    static Map<String, Long> snapshot() {
        Map<String, Long> copy = new TreeMap<>();
        COUNTS.forEach((key, count) -> copy.put(key, count.sum()));
        return copy;
    }

    static long total(Map<String, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }
}
