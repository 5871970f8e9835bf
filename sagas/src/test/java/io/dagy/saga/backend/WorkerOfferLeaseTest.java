package io.dagy.saga.backend;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An attempt offered to a poll waiting on this node is leased by one conditional put of its guard. The saga's
 * dispatch of the same attempt, arriving while that put is on the wire, waits for its outcome instead of sending the
 * queue write that the put would refuse (or that would refuse the put): one request, not three.
 */
class WorkerOfferLeaseTest {

    private final ExecutorService saga = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        saga.shutdownNow();
    }

    @Test
    void aDispatchThatMeetsTheLeaseOfItsOfferOnTheWireWritesNothing() throws Exception {
        AtomicInteger transactions = new AtomicInteger();
        CompletableFuture<CompletableFuture<Void>> sagaDispatch = new CompletableFuture<>();
        WorkerBackend[] backend = new WorkerBackend[1];
        Dispatch dispatch = WorkerTestKit.dispatch();
        // the saga's dispatch runs while the offer's lease is about to be sent, and is given time to finish first
        DynamoDbClient dynamoDb = WorkerTestKit.dynamoDbSeeing(request -> {
            if (request instanceof TransactWriteItemsRequest) {
                transactions.incrementAndGet();
            }
            if (request instanceof PutItemRequest && !sagaDispatch.isDone()) {
                CompletableFuture<Void> running = CompletableFuture.runAsync(() -> backend[0].dispatch(dispatch), saga);
                sagaDispatch.complete(running);
                try {
                    running.get(500, TimeUnit.MILLISECONDS);
                } catch (TimeoutException waitingForTheLease) {
                    // as it should: the dispatch waits for this put's outcome
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        String table = WorkerTestKit.table(dynamoDb);
        backend[0] = WorkerTestKit.backend(dynamoDb, table);

        // a worker's report whose poll follows it: the attempt it made ready is offered to that poll
        backend[0].reportBeforePoll(dispatch.org(), "q", () -> backend[0].offer(dispatch));
        Optional<WorkerBackend.WorkItem> polled = backend[0].poll(dispatch.org(), "q", "w1", Duration.ofSeconds(5));

        assertThat(polled).map(WorkerBackend.WorkItem::dispatchId).contains(dispatch.dispatchId());
        sagaDispatch.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
        assertThat(transactions).as("no queue write, no lease from the queue").hasValue(0);
        Map<String, AttributeValue> guard = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(Map.of(
                "pk", AttributeValue.fromS("worker-dispatch#" + dispatch.dispatchId()),
                "sk", AttributeValue.fromS("dispatch")))).item();
        assertThat(guard.get("state").s()).isEqualTo("leased");
        assertThat(guard).doesNotContainKey("entry");
        assertThat(dynamoDb.scan(b -> b.tableName(table)).count()).as("the guard alone: nothing queued").isEqualTo(1);
    }
}
