package io.dagy.eventstore.support;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.TransactionConflictException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Makes a client fail like real DynamoDB under contention, which DynamoDB Local never does (it serializes
 * transactions): a {@code TransactWriteItems} is cancelled with {@code TransactionConflict} on its first item, and a
 * single-item write fails with {@code TransactionConflictException}. The request is refused before it is sent, so
 * nothing is written, exactly as DynamoDB guarantees for a cancelled transaction.
 */
public final class ConflictInjector implements ExecutionInterceptor {

    private final Predicate<SdkRequest> which;
    private final AtomicInteger remaining;
    private final AtomicInteger injected = new AtomicInteger();
    private final AtomicInteger seen = new AtomicInteger();

    private ConflictInjector(Predicate<SdkRequest> which, int times) {
        this.which = which;
        this.remaining = new AtomicInteger(times);
    }

    /** Fails the next {@code times} requests of this type with a transaction conflict. */
    public static ConflictInjector on(Class<? extends SdkRequest> type, int times) {
        return new ConflictInjector(type::isInstance, times);
    }

    /** Fails the next {@code times} requests that match with a transaction conflict. */
    public static ConflictInjector when(Predicate<SdkRequest> which, int times) {
        return new ConflictInjector(which, times);
    }

    /** Arms the injector again (for a test that first sets up its data through the same client). */
    public ConflictInjector arm(int times) {
        remaining.set(times);
        return this;
    }

    /** How many conflicts were injected. */
    public int injected() {
        return injected.get();
    }

    /** How many matching requests the client made, injected or not. */
    public int seen() {
        return seen.get();
    }

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        SdkRequest request = context.request();
        if (!which.test(request)) {
            return;
        }
        seen.incrementAndGet();
        if (remaining.getAndUpdate(n -> Math.max(0, n - 1)) <= 0) {
            return;
        }
        injected.incrementAndGet();
        if (request instanceof TransactWriteItemsRequest transaction) {
            List<CancellationReason> reasons = new ArrayList<>();
            for (int i = 0; i < transaction.transactItems().size(); i++) {
                reasons.add(i == 0
                        ? CancellationReason.builder().code("TransactionConflict")
                                .message("Transaction is ongoing for the item").build()
                        : CancellationReason.builder().code("None").build());
            }
            throw TransactionCanceledException.builder()
                    .message("Transaction cancelled, please refer cancellation reasons for specific reasons "
                            + reasons.stream().map(CancellationReason::code).toList())
                    .cancellationReasons(reasons)
                    .statusCode(400)
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("TransactionCanceledException")
                            .serviceName("DynamoDb").build())
                    .build();
        }
        throw TransactionConflictException.builder()
                .message("Transaction is ongoing for the item")
                .statusCode(400)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("TransactionConflictException")
                        .serviceName("DynamoDb").build())
                .build();
    }
}
