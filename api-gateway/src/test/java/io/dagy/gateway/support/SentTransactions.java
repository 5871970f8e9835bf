package io.dagy.gateway.support;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The partition keys of the DynamoDB transactions this test JVM sent lately, by every client (registered for all SDK
 * clients by {@code software/amazon/awssdk/global/handlers/execution.interceptors}): a test counts the transactions
 * that touched its own items, whatever other tests' runs still do in the shared application context.
 */
public final class SentTransactions implements ExecutionInterceptor {

    private static final int KEPT = 20_000;
    private static final ConcurrentLinkedDeque<List<String>> SENT = new ConcurrentLinkedDeque<>();
    private static final AtomicInteger SIZE = new AtomicInteger();

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        if (context.request() instanceof TransactWriteItemsRequest transaction) {
            List<String> keys = new ArrayList<>();
            for (TransactWriteItem item : transaction.transactItems()) {
                Stream.of(item.put() == null ? null : item.put().item(),
                                item.update() == null ? null : item.update().key(),
                                item.delete() == null ? null : item.delete().key(),
                                item.conditionCheck() == null ? null : item.conditionCheck().key())
                        .filter(Objects::nonNull).map(SentTransactions::partitionKey).filter(Objects::nonNull)
                        .forEach(keys::add);
            }
            SENT.add(keys);
            if (SIZE.incrementAndGet() > KEPT && SENT.pollFirst() != null) {
                SIZE.decrementAndGet();
            }
        }
    }

    private static String partitionKey(Map<String, AttributeValue> item) {
        AttributeValue pk = item.get("pk");
        return pk == null ? null : pk.s();
    }

    /** How many of the transactions sent lately (attempts on the wire) touched a partition key containing {@code part}. */
    public static long touching(String part) {
        return SENT.stream().filter(keys -> keys.stream().anyMatch(key -> key.contains(part))).count();
    }
}
