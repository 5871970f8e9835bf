package io.dagy.eventstore.deadletters;

import io.dagy.eventstore.support.TestSerializer;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.deadletter.GenericDeadLetter;
import org.axonframework.messaging.deadletter.ThrowableCause;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A processor's transactions ask DynamoDB for the group's parked sequences once, not once each (decision 80), and
 * still see every sequence parked by this node or, after claiming its segment, by another.
 */
class DeadLetterHeaderReuseTest {

    record Failed(String what) {
    }

    private static final TestTables TABLES = TestTables.create(DagyTable.DEAD_LETTERS, DagyTable.TOKENS);

    private final AtomicInteger headerReads = new AtomicInteger();
    private final DynamoDbClient dynamoDb = TestTables.dynamoDbWith(new ExecutionInterceptor() {
        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (context.request() instanceof QueryRequest query && query.expressionAttributeValues().values().stream()
                    .anyMatch(value -> value.s() != null && value.s().startsWith("q#"))) {
                headerReads.incrementAndGet();
            }
        }
    });
    private final String group = "g-" + UUID.randomUUID().toString().substring(0, 8);
    private final DynamoTokenStore tokens = tokenStore("node-a");
    private final DynamoSequencedDeadLetterQueue queue = queue(tokens);
    private final DynamoTransactionManager transactions = new DynamoTransactionManager(dynamoDb);

    private DynamoTokenStore tokenStore(String node) {
        return new DynamoTokenStore(dynamoDb, TABLES.name(DagyTable.TOKENS), TestSerializer.jackson(), node,
                Duration.ofSeconds(10), Clock.systemUTC());
    }

    private DynamoSequencedDeadLetterQueue queue(DynamoTokenStore claims) {
        return DynamoSequencedDeadLetterQueue.builder()
                .dynamoDb(dynamoDb)
                .table(TABLES.name(DagyTable.DEAD_LETTERS))
                .processingGroup(group)
                .eventSerializer(TestSerializer.jackson())
                .serializer(TestSerializer.jackson())
                .claimEpochs(claims.claimEpochs())
                .build();
    }

    private <T> T inTransaction(Supplier<T> work) {
        Transaction transaction = transactions.startTransaction();
        try {
            T result = work.get();
            transaction.commit();
            return result;
        } catch (RuntimeException e) {
            transaction.rollback();
            throw e;
        }
    }

    private static GenericDeadLetter<EventMessage<?>> letter(String sequence) {
        return new GenericDeadLetter<>(sequence, GenericEventMessage.asEventMessage(new Failed(sequence)),
                new ThrowableCause(new IllegalStateException("failed")), Instant.now(), Instant.now(),
                MetaData.emptyInstance());
    }

    private void claim(DynamoTokenStore store) {
        store.fetchToken(group, 0);
    }

    @Test
    void transactionsReuseWhatWasReadWhileThisNodesClaimsStandStill() {
        tokens.initializeTokenSegments(group, 1);
        claim(tokens);

        headerReads.set(0);
        for (int i = 0; i < 5; i++) {
            String sequence = "s-" + i;
            assertThat(inTransaction(() -> queue.contains(sequence))).isFalse();
        }
        assertThat(headerReads.get()).isEqualTo(1);

        claim(tokens); // claimed again: another node may have held it in between
        assertThat(inTransaction(() -> queue.contains("s-0"))).isFalse();
        assertThat(headerReads.get()).isEqualTo(2);
    }

    /**
     * Another transaction of the processor reads the headers while this one has parked a sequence but not committed:
     * what it read must not hide the parked sequence once this one commits.
     */
    @Test
    void aSequenceParkedWhileAnotherTransactionReadIsSeenOnceCommitted() throws Exception {
        tokens.initializeTokenSegments(group, 1);
        claim(tokens);
        CountDownLatch parked = new CountDownLatch(1);
        CountDownLatch read = new CountDownLatch(1);
        CompletableFuture<Void> parking = CompletableFuture.runAsync(() -> inTransaction(() -> {
            queue.enqueue("x", letter("x"));
            parked.countDown();
            try {
                assertThat(read.await(10, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return null;
        }));
        assertThat(parked.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(inTransaction(() -> queue.contains("y"))).isFalse(); // reads before "x" is committed
        read.countDown();
        parking.get(10, TimeUnit.SECONDS);

        assertThat(inTransaction(() -> queue.contains("x"))).isTrue();
    }

    /** A sequence another node parked while it held the segment is seen once this node claims the segment. */
    @Test
    void aSequenceAnotherNodeParkedIsSeenAfterThisNodeClaimsTheSegment() {
        tokens.initializeTokenSegments(group, 1);
        claim(tokens);
        assertThat(inTransaction(() -> queue.contains("x"))).isFalse();
        tokens.releaseClaim(group, 0);

        DynamoTokenStore otherTokens = tokenStore("node-b");
        claim(otherTokens);
        DynamoSequencedDeadLetterQueue otherQueue = queue(otherTokens);
        inTransaction(() -> {
            otherQueue.enqueue("x", letter("x"));
            return null;
        });
        otherTokens.releaseClaim(group, 0);

        claim(tokens);
        assertThat(inTransaction(() -> queue.contains("x"))).isTrue();
    }
}
