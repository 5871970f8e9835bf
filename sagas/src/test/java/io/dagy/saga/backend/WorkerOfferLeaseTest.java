package io.dagy.saga.backend;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import tools.jackson.databind.json.JsonMapper;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
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
        Dispatch dispatch = dispatch();
        // the saga's dispatch runs while the offer's lease is about to be sent, and is given time to finish first
        DynamoDbClient dynamoDb = client(new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                if (context.request() instanceof TransactWriteItemsRequest) {
                    transactions.incrementAndGet();
                }
                if (context.request() instanceof PutItemRequest && !sagaDispatch.isDone()) {
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
            }
        });
        String table = table(dynamoDb);
        backend[0] = new WorkerBackend(dynamoDb, table, JsonMapper.builder().build(), new NoReports(), Clock.systemUTC());

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

    private static DynamoDbClient client(ExecutionInterceptor interceptor) {
        return LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint(), interceptor);
    }

    private static String table(DynamoDbClient dynamoDb) {
        String name = "worker-offers-" + UUID.randomUUID().toString().substring(0, 8);
        dynamoDb.createTable(b -> b.tableName(name).billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(a -> a.attributeName("pk").attributeType(ScalarAttributeType.S),
                        a -> a.attributeName("sk").attributeType(ScalarAttributeType.S))
                .keySchema(k -> k.attributeName("pk").keyType(KeyType.HASH),
                        k -> k.attributeName("sk").keyType(KeyType.RANGE)));
        return name;
    }

    private static Dispatch dispatch() {
        Dag.Task task = new Dag.Task("extract", new Dag.Backend(BackendType.WORKER, Map.of("queue", "q")), List.of(),
                TriggerRule.ALL_SUCCESS, Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
        TaskRunId taskRun = TaskRunId.of(new RunId("r-" + UUID.randomUUID()), "extract");
        return new Dispatch(taskRun.dispatchId(1), new OrgId("acme"), taskRun, 1, task, Map.of());
    }

    private static final class NoReports implements BackendReports {
        @Override
        public void started(String dispatchId) {
        }

        @Override
        public void heartbeat(String dispatchId) {
        }

        @Override
        public void succeeded(String dispatchId, Map<String, Object> output) {
        }

        @Override
        public void failed(String dispatchId, String errorKind, String message) {
        }
    }
}
