package io.dagy.gateway.ratelimit;

import io.github.bucket4j.distributed.proxy.ClientSideConfig;
import io.github.bucket4j.distributed.proxy.generic.compare_and_swap.AbstractCompareAndSwapBasedProxyManager;
import io.github.bucket4j.distributed.proxy.generic.compare_and_swap.AsyncCompareAndSwapOperation;
import io.github.bucket4j.distributed.proxy.generic.compare_and_swap.CompareAndSwapOperation;
import io.github.bucket4j.distributed.remote.RemoteBucketState;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bucket4j's buckets in a DynamoDB table, so that every node draws on one budget per key.
 *
 * <p>Bucket4j computes each step locally from the bucket's state bytes; this class only has to swap those bytes
 * atomically. An operation reads the item with a strongly consistent {@code GetItem} and writes the new state with a
 * {@code PutItem} conditioned on the version it read ({@code attribute_not_exists(pk)} for a new bucket); when another
 * node or thread wrote in between, the condition fails and Bucket4j starts the step over from a fresh read.
 *
 * <p>An item: {@code pk} the key (a hash of the API key, or the client address), {@code sk} the limit
 * ({@code 120/200}: a changed setting starts fresh buckets instead of meeting state built for the old one),
 * {@code state} Bucket4j's bytes, {@code version} a counter, {@code expires_at} (epoch seconds) when the bucket would be
 * full again anyway, after which DynamoDB's time to live may delete it.
 */
final class DynamoDbProxyManager extends AbstractCompareAndSwapBasedProxyManager<String> {

    static final String STATE = "state";
    static final String VERSION = "version";
    static final String EXPIRES_AT = "expires_at";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final String limit;
    private final AtomicLong conflicts = new AtomicLong();

    /**
     * @param limit the sort key of this limit's buckets, e.g. {@code 120/200}
     */
    DynamoDbProxyManager(DynamoDbClient dynamoDb, String table, String limit, ClientSideConfig config) {
        super(config);
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.limit = limit;
    }

    /** How often a conditional write lost to a concurrent one and was retried (for tests and diagnosis). */
    long conflicts() {
        return conflicts.get();
    }

    @Override
    protected CompareAndSwapOperation beginCompareAndSwapOperation(String key) {
        return new Operation(key);
    }

    @Override
    protected AsyncCompareAndSwapOperation beginAsyncCompareAndSwapOperation(String key) {
        throw new UnsupportedOperationException("the rate limit uses the synchronous API only");
    }

    @Override
    public boolean isAsyncModeSupported() {
        return false;
    }

    @Override
    public boolean isExpireAfterWriteSupported() {
        return true;
    }

    @Override
    public void removeProxy(String key) {
        dynamoDb.deleteItem(b -> b.tableName(table).key(key(key)));
    }

    @Override
    protected CompletableFuture<Void> removeAsync(String key) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("the rate limit is synchronous"));
    }

    private Map<String, AttributeValue> key(String key) {
        return Map.of("pk", AttributeValue.fromS(key), "sk", AttributeValue.fromS(limit));
    }

    /** One bucket step: read, then swap. Bucket4j calls both again on the same operation after a lost swap. */
    private final class Operation implements CompareAndSwapOperation {

        private final String key;
        private String versionRead;

        private Operation(String key) {
            this.key = key;
        }

        @Override
        public Optional<byte[]> getStateData(Optional<Long> timeoutNanos) {
            GetItemRequest.Builder get = GetItemRequest.builder().tableName(table).key(key(key)).consistentRead(true)
                    .projectionExpression("#state, #version")
                    .expressionAttributeNames(Map.of("#state", STATE, "#version", VERSION));
            timeoutNanos.ifPresent(nanos -> get.overrideConfiguration(o -> o.apiCallTimeout(Duration.ofNanos(nanos))));
            Map<String, AttributeValue> item = dynamoDb.getItem(get.build()).item();
            if (item == null || !item.containsKey(STATE)) {
                versionRead = null;
                return Optional.empty();
            }
            versionRead = item.get(VERSION).n();
            return Optional.of(item.get(STATE).b().asByteArray());
        }

        @Override
        public boolean compareAndSwap(byte[] originalData, byte[] newData, RemoteBucketState newState,
                                      Optional<Long> timeoutNanos) {
            long version = versionRead == null ? 1 : Long.parseLong(versionRead) + 1;
            Map<String, AttributeValue> item = new HashMap<>(key(key));
            item.put(STATE, AttributeValue.fromB(SdkBytes.fromByteArray(newData)));
            item.put(VERSION, AttributeValue.fromN(Long.toString(version)));
            expiresAt(newState).ifPresent(epochSecond -> item.put(EXPIRES_AT, AttributeValue.fromN(Long.toString(epochSecond))));
            PutItemRequest.Builder put = PutItemRequest.builder().tableName(table).item(item);
            if (versionRead == null) {
                put.conditionExpression("attribute_not_exists(pk)");
            } else {
                put.conditionExpression("#version = :read")
                        .expressionAttributeNames(Map.of("#version", VERSION))
                        .expressionAttributeValues(Map.of(":read", AttributeValue.fromN(versionRead)));
            }
            timeoutNanos.ifPresent(nanos -> put.overrideConfiguration(o -> o.apiCallTimeout(Duration.ofNanos(nanos))));
            try {
                dynamoDb.putItem(put.build());
                return true;
            } catch (ConditionalCheckFailedException lost) {
                conflicts.incrementAndGet();
                return false;
            }
        }

        private Optional<Long> expiresAt(RemoteBucketState state) {
            return getClientSideConfig().getExpirationAfterWriteStrategy().map(strategy -> {
                long now = currentTimeNanos();
                long ttlMillis = strategy.calculateTimeToLiveMillis(state, now);
                return TimeUnit.NANOSECONDS.toSeconds(now) + TimeUnit.MILLISECONDS.toSeconds(ttlMillis) + 1;
            });
        }
    }
}
