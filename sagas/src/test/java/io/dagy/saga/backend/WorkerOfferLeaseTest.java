package io.dagy.saga.backend;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpResponse;
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
        var held = backend[0].reportBeforePoll(dispatch.org(), "q", () -> backend[0].offer(dispatch));
        Optional<WorkerBackend.WorkItem> polled = backend[0].poll(dispatch.org(), "q", "w1", Duration.ofSeconds(5), held);

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

    /**
     * The saga's dispatch of the attempt a report made ready comes before the report's own poll does (a busy node):
     * the attempt is held for that poll, so the dispatch waits for its lease instead of queueing it, and the poll gets
     * it without a queue write or a lease from the queue (decision 102).
     */
    @Test
    void theAttemptAReportMadeReadyIsHeldForItsPollEvenWhenTheSagaComesFirst() throws Exception {
        heldWhileTheSagaComesFirst(true);
    }

    /**
     * The same when this node has not looked at the queue lately (the report came more than a second after the last
     * look, or is the first here): the poll looks, finds the queue empty, and takes the held attempt; the saga waits.
     */
    @Test
    void theAttemptIsHeldAlsoWhenThisNodeHasNotLookedAtTheQueueLately() throws Exception {
        heldWhileTheSagaComesFirst(false);
    }

    private void heldWhileTheSagaComesFirst(boolean lookedLately) throws Exception {
        AtomicInteger transactions = new AtomicInteger();
        DynamoDbClient dynamoDb = WorkerTestKit.dynamoDbSeeing(request -> {
            if (request instanceof TransactWriteItemsRequest) {
                transactions.incrementAndGet();
            }
        });
        String table = WorkerTestKit.table(dynamoDb);
        WorkerBackend backend = WorkerTestKit.backend(dynamoDb, table);
        Dispatch dispatch = WorkerTestKit.dispatch();
        if (lookedLately) {
            // the worker's previous poll looked at the (empty) queue
            assertThat(backend.poll(dispatch.org(), "q", "w1", Duration.ofMillis(50))).isEmpty();
        }

        var held = backend.reportBeforePoll(dispatch.org(), "q", () -> backend.offer(dispatch));
        CompletableFuture<Void> sagaDispatch = CompletableFuture.runAsync(() -> backend.dispatch(dispatch), saga);
        Thread.sleep(300); // the saga's dispatch has long been on its way
        Optional<WorkerBackend.WorkItem> polled = backend.poll(dispatch.org(), "q", "w1", Duration.ofSeconds(2), held);
        sagaDispatch.get(10, TimeUnit.SECONDS);

        assertThat(polled).map(WorkerBackend.WorkItem::dispatchId).contains(dispatch.dispatchId());
        assertThat(transactions).as("no queue write, no lease from the queue").hasValue(0);
        assertThat(guard(dynamoDb, table, dispatch)).doesNotContainKey("entry")
                .satisfies(guard -> assertThat(guard.get("worker").s()).isEqualTo("w1"));
    }

    /**
     * The offer's put lands but its answer is lost (a 500): the SDK sends it again, and that put finds the guard the
     * first one wrote. It is this lease's own, so the poll gets the attempt; were it taken for the saga's queue write,
     * the attempt would stay leased to a worker that never got it.
     */
    @Test
    void anOffersLeaseWhoseAnswerWasLostIsKnownAgainByItsRetry() throws Exception {
        AtomicInteger guardPuts = new AtomicInteger();
        DynamoDbClient dynamoDb = WorkerTestKit.dynamoDbAnswering((request, status) ->
                request instanceof PutItemRequest && guardPuts.incrementAndGet() == 1 ? 500 : status);
        String table = WorkerTestKit.table(dynamoDb);
        WorkerBackend backend = WorkerTestKit.backend(dynamoDb, table);
        Dispatch dispatch = WorkerTestKit.dispatch();

        var held = backend.reportBeforePoll(dispatch.org(), "q", () -> backend.offer(dispatch));
        Optional<WorkerBackend.WorkItem> polled = backend.poll(dispatch.org(), "q", "w1", Duration.ofSeconds(2), held);

        assertThat(guardPuts).as("the put was sent again").hasValueGreaterThan(1);
        assertThat(polled).map(WorkerBackend.WorkItem::dispatchId).contains(dispatch.dispatchId());
        assertThat(guard(dynamoDb, table, dispatch).get("worker").s()).isEqualTo("w1");
    }

    /**
     * Every answer to the offer's put is lost, so whether it landed is unknown: the poll fails, and the guard it may
     * have written is first turned into a queued one with its entry. The worker's next poll gets the attempt even if
     * the saga's dispatch had already found the guard and gone on; a dispatch after that queues nothing more.
     */
    @Test
    void anOffersLeaseOfUnknownOutcomeIsWithdrawnSoTheDispatchQueuesTheAttempt() throws Exception {
        // the first put lands and its answer is lost; the SDK's retries never reach DynamoDB (the connection fails)
        AtomicInteger guardPuts = new AtomicInteger();
        DynamoDbClient dynamoDb = io.dagy.localstack.LocalAwsClients.dynamoDb(
                io.dagy.localstack.SharedLocalStack.get().dynamoDbEndpoint(), new ExecutionInterceptor() {
                    @Override
                    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                        if (context.request() instanceof PutItemRequest && guardPuts.incrementAndGet() > 1) {
                            throw software.amazon.awssdk.core.exception.SdkClientException.create("connection reset",
                                    new java.io.IOException("connection reset"));
                        }
                    }

                    @Override
                    public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context,
                                                              ExecutionAttributes attributes) {
                        return context.request() instanceof PutItemRequest
                                ? context.httpResponse().toBuilder().statusCode(500).build() : context.httpResponse();
                    }
                });
        String table = WorkerTestKit.table(dynamoDb);
        WorkerBackend backend = WorkerTestKit.backend(dynamoDb, table);
        Dispatch dispatch = WorkerTestKit.dispatch();

        var held = backend.reportBeforePoll(dispatch.org(), "q", () -> backend.offer(dispatch));
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> backend.poll(dispatch.org(), "q", "w1", Duration.ofSeconds(2), held))
                .isInstanceOf(software.amazon.awssdk.core.exception.SdkException.class);
        assertThat(guardPuts).as("the put was tried again").hasValueGreaterThan(1);
        assertThat(guard(dynamoDb, table, dispatch).get("state").s()).as("the landed put, queued").isEqualTo("queued");

        Optional<WorkerBackend.WorkItem> polled = backend.poll(dispatch.org(), "q", "w1", Duration.ofSeconds(2));
        assertThat(polled).map(WorkerBackend.WorkItem::dispatchId).contains(dispatch.dispatchId());
        backend.dispatch(dispatch);
        assertThat(backend.poll(dispatch.org(), "q", "w2", Duration.ofMillis(300))).as("queued once").isEmpty();
    }

    private static Map<String, AttributeValue> guard(DynamoDbClient dynamoDb, String table, Dispatch dispatch) {
        return dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(Map.of(
                "pk", AttributeValue.fromS("worker-dispatch#" + dispatch.dispatchId()),
                "sk", AttributeValue.fromS("dispatch")))).item();
    }
}
