package io.dagy.eventstore.events;

import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.serialization.Serializer;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Requests to DynamoDB that fail in ways the SDK would retry: a counter update whose answer is lost after it was
 * applied, and a transaction that is throttled. The gap timeout is far longer than the tests, so a reader never fences
 * anything: every position passed here was closed by the writer itself.
 */
class AppendRetriesTest {

    record Noted(String id, long step) {
    }

    private final Serializer serializer = TestSerializer.jackson();
    private final TestTables tables = TestTables.create(DagyTable.EVENTS, DagyTable.SNAPSHOTS);
    private final EventStoreSettings settings = EventStoreSettings.defaults().withShards(2)
            .withGapTimeout(Duration.ofSeconds(60)).withBucketSize(100);

    private DynamoEventStorageEngine engine(DynamoDbClient client, DynamoEventStorageEngine.AppendHook hook) {
        return DynamoEventStorageEngine.builder()
                .dynamoDb(client)
                .tables(tables.name(DagyTable.EVENTS), tables.name(DagyTable.SNAPSHOTS))
                .settings(settings)
                .eventSerializer(serializer)
                .snapshotSerializer(serializer)
                .appendHook(hook)
                .build();
    }

    private final DynamoEventStorageEngine reader = engine(TestTables.dynamoDb(), DynamoEventStorageEngine.AppendHook.NONE);

    private static DomainEventMessage<Noted> event(String aggregate, long sequence) {
        return new GenericDomainEventMessage<>("Noted", aggregate, sequence, new Noted(aggregate, sequence));
    }

    private List<String> readAllIds() {
        try (var stream = reader.readEvents(null, false)) {
            return stream.map(TrackedEventMessage::getIdentifier).collect(Collectors.toList());
        }
    }

    private Map<String, AttributeValue> streamItem(int shard, long position) {
        return TestTables.dynamoDb().getItem(b -> b.tableName(tables.name(DagyTable.EVENTS)).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS("stream#" + shard + "#" + position / 100),
                        "sk", AttributeValue.fromN(Long.toString(position))))).item();
    }

    private long counter(int shard) {
        return Long.parseLong(TestTables.dynamoDb().getItem(b -> b.tableName(tables.name(DagyTable.EVENTS))
                .consistentRead(true).key(Map.of("pk", AttributeValue.fromS("counter#" + shard),
                        "sk", AttributeValue.fromN("0")))).item().get("next").n());
    }

    @Test
    void aReservationWhoseAnswerWasLostLeavesNoGapThatHoldsTheShardBack() {
        // the first counter update is applied, then its answer turns into a 500: the update is sent again
        AtomicBoolean lost = new AtomicBoolean();
        ExecutionInterceptor loseFirstCounterAnswer = new ExecutionInterceptor() {
            @Override
            public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
                if (context.request() instanceof UpdateItemRequest update
                        && update.key().get("pk").s().startsWith("counter#") && lost.compareAndSet(false, true)) {
                    return context.httpResponse().toBuilder().statusCode(500).build();
                }
                return context.httpResponse();
            }
        };
        var writer = engine(TestTables.dynamoDbWith(loseFirstCounterAnswer), DynamoEventStorageEngine.AppendHook.NONE);
        var appended = event("lost-answer", 0);
        int shard = writer.shardOf("lost-answer");

        writer.appendEvents(List.of(appended));

        assertThat(lost).isTrue();
        assertThat(counter(shard)).as("positions reserved").isEqualTo(2); // the lost reservation really happened
        // position 1 was reserved by the lost call and will never hold an event: readers pass it at once
        assertThat(readAllIds()).containsExactly(appended.getIdentifier());
        assertThat(streamItem(shard, 1)).containsEntry("fence", AttributeValue.fromBool(true));
    }

    @Test
    void aThrottledWriterClosesItsPositionsSoLaterEventsOfItsShardAreNotHeldBack() throws Exception {
        AtomicBoolean throttling = new AtomicBoolean(true);
        ExecutionInterceptor throttleTransactions = new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                if (throttling.get() && context.request() instanceof TransactWriteItemsRequest) {
                    // what DynamoDB answers a throttled request, which it has not applied; here it is not even sent
                    throw DynamoDbException.builder().statusCode(400).message("Rate of requests exceeds the allowed throughput.")
                            .awsErrorDetails(AwsErrorDetails.builder().errorCode("ThrottlingException")
                                    .serviceName("DynamoDb").build())
                            .build();
                }
            }
        };
        CountDownLatch reserved = new CountDownLatch(1);
        var throttled = engine(TestTables.dynamoDbWith(throttleTransactions), (first, counts) -> reserved.countDown());
        var slow = event("throttled", 0);
        int shard = throttled.shardOf("throttled");
        String sameShard = IntStream.range(0, 1000).mapToObj(i -> "unhindered-" + i)
                .filter(id -> throttled.shardOf(id) == shard).findFirst().orElseThrow();
        var fast = event(sameShard, 0);

        CompletableFuture<Void> slowAppend = CompletableFuture.runAsync(() -> throttled.appendEvents(List.of(slow)));
        assertThat(reserved.await(10, TimeUnit.SECONDS)).isTrue();
        reader.appendEvents(List.of(fast)); // behind the throttled writer's first position

        // delivered while the other writer is still throttled, long before any gap timeout
        await().atMost(Duration.ofSeconds(10)).until(() -> readAllIds().contains(fast.getIdentifier()));
        assertThat(slowAppend).isNotDone();
        throttling.set(false);
        slowAppend.get(30, TimeUnit.SECONDS);

        assertThat(readAllIds()).containsExactlyInAnyOrder(fast.getIdentifier(), slow.getIdentifier());
        assertThat(reader.readEvents("throttled").asStream().map(EventMessage::getIdentifier).toList())
                .containsExactly(slow.getIdentifier());
    }

    @Test
    void aTransactionWhoseAnswerWasLostIsSentAgainAndLandsOnce() {
        AtomicBoolean lost = new AtomicBoolean();
        ExecutionInterceptor loseFirstTransactionAnswer = new ExecutionInterceptor() {
            @Override
            public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
                if (context.request() instanceof TransactWriteItemsRequest && lost.compareAndSet(false, true)) {
                    return context.httpResponse().toBuilder().statusCode(500).build();
                }
                return context.httpResponse();
            }
        };
        var writer = engine(TestTables.dynamoDbWith(loseFirstTransactionAnswer), DynamoEventStorageEngine.AppendHook.NONE);
        var appended = event("lost-commit", 0);

        writer.appendEvents(List.of(appended)); // the same client request token: DynamoDB applies it once

        assertThat(lost).isTrue();
        assertThat(counter(writer.shardOf("lost-commit"))).isEqualTo(1);
        assertThat(readAllIds()).containsExactly(appended.getIdentifier());
        assertThat(reader.lastSequenceNumberFor("lost-commit")).hasValue(0L);
    }
}
