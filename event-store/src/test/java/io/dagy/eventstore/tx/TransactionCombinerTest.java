package io.dagy.eventstore.tx;

import io.dagy.eventstore.support.TestTables;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.Transaction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Commits that become ready while another is on the wire are sent as one transaction, and each still lands or fails
 * as it would alone. The first commit is held before it is sent, so the others are certain to wait behind it.
 */
class TransactionCombinerTest {

    private final TestTables tables = TestTables.create(DagyTable.RUNS);
    private final String runs = tables.name(DagyTable.RUNS);
    /** The number of writes in each transaction sent, in order. */
    private final List<Integer> sent = new CopyOnWriteArrayList<>();
    private final CountDownLatch firstMaySend = new CountDownLatch(1);
    private final CountDownLatch firstSending = new CountDownLatch(1);
    private final AtomicBoolean first = new AtomicBoolean(true);
    private final DynamoDbClient dynamoDb = TestTables.dynamoDbWith(new ExecutionInterceptor() {
        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (context.request() instanceof TransactWriteItemsRequest request) {
                if (first.compareAndSet(true, false)) {
                    firstSending.countDown();
                    awaitLatch(firstMaySend);
                }
                sent.add(request.transactItems().size());
            }
        }
    });
    private final TransactionCombiner combiner = new TransactionCombiner(dynamoDb);
    private final DynamoTransactionManager manager = new DynamoTransactionManager(dynamoDb, combiner);

    @AfterEach
    void release() {
        firstMaySend.countDown();
    }

    @Test
    void commitsReadyWhileAnotherIsOnTheWireAreSentAsOneTransaction() throws Exception {
        CompletableFuture<Void> held = holdTheWire();
        List<CompletableFuture<Void>> others = List.of(queued(Map.of("b", "")), queued(Map.of("c", "", "d", "")),
                queued(Map.of("e", "")));

        firstMaySend.countDown();

        held.get(10, TimeUnit.SECONDS);
        for (CompletableFuture<Void> other : others) {
            other.get(10, TimeUnit.SECONDS);
        }
        assertThat(sent).containsExactly(1, 4);
        assertThat(List.of("a", "b", "c", "d", "e")).allMatch(this::exists);
    }

    @Test
    void aRefusedCommitInACombinedTransactionFailsAloneAndTheOthersLand() throws Exception {
        dynamoDb.putItem(b -> b.tableName(runs).item(key("taken")));
        sent.clear();
        CompletableFuture<Void> held = holdTheWire();
        CompletableFuture<Void> refused = queued(Map.of("taken", "attribute_not_exists(pk)", "b", ""));
        CompletableFuture<Void> other = queued(Map.of("c", ""));

        firstMaySend.countDown();

        held.get(10, TimeUnit.SECONDS);
        other.get(10, TimeUnit.SECONDS);
        assertThat(refused).failsWithin(Duration.ofSeconds(10)).withThrowableThat()
                .withMessageContaining("refused: condition failed");
        assertThat(exists("c")).isTrue();
        assertThat(exists("b")).as("written with the refused condition").isFalse();
        assertThat(sent.subList(0, 2)).containsExactly(1, 3); // together: cancelled
        assertThat(sent.subList(2, sent.size())).containsExactlyInAnyOrder(2, 1); // then each alone
    }

    /** A request DynamoDB refuses whole (here one commit's condition does not parse) is one commit's doing. */
    @Test
    void aCombinedTransactionDynamoDbRefusesAsInvalidIsSentAgainCommitByCommit() throws Exception {
        CompletableFuture<Void> held = holdTheWire();
        CompletableFuture<Void> invalid = queued(Map.of("bad", "attribute_not_exists("));
        CompletableFuture<Void> other = queued(Map.of("c", ""));

        firstMaySend.countDown();

        held.get(10, TimeUnit.SECONDS);
        other.get(10, TimeUnit.SECONDS);
        assertThat(invalid).failsWithin(Duration.ofSeconds(10));
        assertThat(exists("c")).isTrue();
        assertThat(exists("bad")).isFalse();
        assertThat(sent.subList(0, 2)).containsExactly(1, 2); // together: refused as invalid
        assertThat(sent.subList(2, sent.size())).containsExactlyInAnyOrder(1, 1); // then each alone
    }

    @Test
    void commitsThatWriteTheSameItemAreNotSentTogether() throws Exception {
        CompletableFuture<Void> held = holdTheWire();
        CompletableFuture<Void> one = queued(Map.of("same", ""));
        CompletableFuture<Void> two = queued(Map.of("same", "attribute_exists(pk)", "f", ""));

        firstMaySend.countDown();

        held.get(10, TimeUnit.SECONDS);
        one.get(10, TimeUnit.SECONDS);
        two.get(10, TimeUnit.SECONDS);
        assertThat(sent).containsExactly(1, 1, 2);
        assertThat(exists("f")).isTrue();
    }

    /** Commits "a", whose transaction is held before it is sent: the lane stays busy until {@link #firstMaySend}. */
    private CompletableFuture<Void> holdTheWire() {
        CompletableFuture<Void> held = commit(Map.of("a", ""));
        awaitLatch(firstSending);
        return held;
    }

    /** {@link #commit}, returning once the commit waits for the lane. */
    private CompletableFuture<Void> queued(Map<String, String> puts) {
        int before = combiner.waiting();
        CompletableFuture<Void> commit = commit(puts);
        awaitWaiting(before + 1);
        return commit;
    }

    /** Commits, on a thread of its own, a put of each item, with its condition ("" for none). */
    private CompletableFuture<Void> commit(Map<String, String> puts) {
        return CompletableFuture.runAsync(() -> {
            Transaction transaction = manager.startTransaction();
            DynamoTransaction open = DynamoTransactionManager.current().orElseThrow();
            puts.forEach((pk, condition) -> open.write(new DynamoTransaction.ItemKey(runs, key(pk)),
                    TransactWriteItem.builder().put(Put.builder().tableName(runs).item(item(pk))
                            .conditionExpression(condition.isEmpty() ? null : condition).build()).build(),
                    detail -> new IllegalStateException("refused: " + detail)));
            transaction.commit();
        });
    }

    private void awaitWaiting(int commits) {
        await().atMost(Duration.ofSeconds(10)).until(() -> combiner.waiting() == commits);
    }

    private static Map<String, AttributeValue> key(String pk) {
        return Map.of("pk", AttributeValue.fromS(pk), "sk", AttributeValue.fromS("x"));
    }

    private static Map<String, AttributeValue> item(String pk) {
        Map<String, AttributeValue> item = new HashMap<>(key(pk));
        item.put("v", AttributeValue.fromS("1"));
        return item;
    }

    private boolean exists(String pk) {
        var item = dynamoDb.getItem(b -> b.tableName(runs).consistentRead(true).key(key(pk))).item();
        return item != null && !item.isEmpty();
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
