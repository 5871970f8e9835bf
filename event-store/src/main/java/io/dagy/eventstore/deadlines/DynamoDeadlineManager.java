package io.dagy.eventstore.deadlines;

import io.dagy.eventstore.deadlines.DeadlineItems.Write;
import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.eventstore.tx.TransactionConflicts;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.deadline.AbstractDeadlineManager;
import org.axonframework.deadline.DeadlineException;
import org.axonframework.deadline.DeadlineManagerSpanFactory;
import org.axonframework.deadline.DefaultDeadlineManagerSpanFactory;
import org.axonframework.deadline.DeadlineMessage;
import org.axonframework.deadline.GenericDeadlineMessage;
import org.axonframework.lifecycle.Lifecycle;
import org.axonframework.lifecycle.Phase;
import org.axonframework.messaging.DefaultInterceptorChain;
import org.axonframework.messaging.ExecutionException;
import org.axonframework.messaging.ResultMessage;
import org.axonframework.messaging.ScopeAware;
import org.axonframework.messaging.ScopeAwareProvider;
import org.axonframework.messaging.ScopeDescriptor;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.Serializer;
import org.axonframework.tracing.NoOpSpanFactory;
import org.axonframework.tracing.Span;
import org.axonframework.tracing.SpanScope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

import static io.dagy.eventstore.deadlines.DeadlineItems.ATTEMPTS;
import static io.dagy.eventstore.deadlines.DeadlineItems.LEASE_OWNER;
import static io.dagy.eventstore.deadlines.DeadlineItems.LEASE_UNTIL;
import static io.dagy.eventstore.deadlines.DeadlineItems.n;
import static io.dagy.eventstore.deadlines.DeadlineItems.s;

/**
 * A persistent Axon {@link org.axonframework.deadline.DeadlineManager} on one DynamoDB table (keys {@code pk} S,
 * {@code sk} S), safe to run on several nodes at once.
 *
 * <p><b>Items.</b> Each deadline is three items, written and deleted together:
 * <ul>
 *   <li>the <i>due</i> item at {@code pk = "due#<shard>"} (8 shards), {@code sk = <trigger millis, 15 digits>#<id>}:
 *       name, id, the serialized payload (+ type, revision), metadata and scope (+ type, revision), the original
 *       message id and timestamp, and, once claimed, {@code leaseOwner} / {@code leaseUntil};</li>
 *   <li>the name index {@code pk = "name#<name>", sk = <id>} and the scope index
 *       {@code pk = "scope#<name>#<scope key>", sk = <id>} (scope key: a hash of the serialized scope), both
 *       pointing back to the due item, so {@code cancelAll} and {@code cancelAllWithinScope} are queries, not
 *       scans.</li>
 * </ul>
 * The schedule id is {@code <trigger millis>.<shard>.<scope key>.<uuid>}: it locates all three items, so
 * {@code cancelSchedule} is three deletes without a read. It does not check the name: ids are unique across names.
 *
 * <p><b>Transactions.</b> Schedule and cancel run in the unit of work's prepare-commit phase (or at once without
 * one). If a {@link DynamoTransactionManager} transaction is open on the thread, their writes join it, so a saga's
 * deadline lands with its state and token or not at all; otherwise they are written at once with
 * {@code TransactWriteItems}. Each deadline adds three items to the transaction, which holds at most 100; so a bulk
 * cancel of more than {@value #JOIN_LIMIT} stored deadlines is written after that transaction commits instead, in
 * chunks (atomic per deadline, not as a whole).
 *
 * <p><b>Firing.</b> A daemon poller thread queries every shard each poll interval for items due by now (strongly
 * consistent, paging past leased items until it has {@code batchSize} per shard, or none are left) and claims each
 * with a conditional update (the item exists and carries no unexpired lease) that also counts the attempt. Only the
 * claimer fires: it rebuilds the deadline message with its original id and timestamp and sends it, through the
 * handler interceptors, in a unit of work with the transaction manager attached, to every {@link ScopeAware} of the
 * {@link ScopeAwareProvider} that can resolve its scope.
 *
 * <p><b>Commit point.</b> The first prepare-commit step of that unit of work, registered before the handler runs and
 * so before the event bus appends the events of commands the handler sent, checks with a conditional write that the
 * claim still stands. A cancel that lands before it wins: the unit of work rolls back, so no DynamoDB write and no
 * event of a command sent on this thread lands, and the deadline is gone. A cancel after it comes too late: the
 * deadline has fired, and the removal (which tolerates the cancel's delete) commits with the handler's DynamoDB
 * effects when the transaction is a DynamoDB one, else right after the unit of work. Effects outside the unit of
 * work (a command bus on other threads, calls to other systems) are not covered.
 *
 * <p><b>Failures.</b> A firing that fails is retried after a back-off ({@code retryBackoff}, doubling per attempt,
 * capped by the lease) by moving the end of our lease; after {@code maxAttempts} claims it is parked: its three items
 * are replaced, in one transaction, by a parked item ({@code pk = "parked"}, {@code sk = <id>}) holding the deadline,
 * the attempts and the last error, it is logged at error, and {@link #parkedDeadlines()} lists it. A node that dies
 * mid-fire leaves a lease that expires, and that claim counts as an attempt. Delivery is at least once, at most
 * {@code maxAttempts} times. A deadline never fires early and fires up to one poll interval late (more under a
 * backlog). The lease must outlast a handler (it is not renewed), and node clocks must agree to well within it.
 *
 * <p><b>Tracing.</b> Like Axon's own deadline managers, every schedule, cancel and firing runs in a span of the
 * {@link DeadlineManagerSpanFactory} ({@code DeadlineManager.scheduleDeadline(name)}, {@code cancelDeadline},
 * {@code cancelAllDeadlines}, {@code cancelAllWithinScope}, {@code executeDeadline}, each with the schedule id as
 * {@code axon.deadlineId} where there is one), and the scheduling span's context is stored with the deadline's
 * metadata, so its firing, on whichever node, is linked to the trace that scheduled it.
 *
 * <p>Start with {@link #start()} (or the {@link Lifecycle} handlers, or, unless disabled, the first schedule); stop
 * with {@link #shutdown()}. Build with {@link #builder()}.
 */
public class DynamoDeadlineManager extends AbstractDeadlineManager implements Lifecycle {

    /** The longest wait between polls while polling keeps failing (an outage of the table). */
    private static final long MAX_FAILURE_BACKOFF_MILLIS = 5_000;

    private static final Logger log = LoggerFactory.getLogger(DynamoDeadlineManager.class);

    /** Deadlines a bulk cancel adds to an open transaction; beyond it, they are deleted after the commit. */
    static final int JOIN_LIMIT = 10;
    /** Deadlines (three items each) per direct {@code TransactWriteItems}. */
    private static final int DIRECT_CHUNK = DynamoTransaction.MAX_ITEMS / 3;
    /** Items a poll's query reads per page (DynamoDB applies it before the lease filter). */
    private static final int PAGE_SIZE = 100;
    /** Longest error text kept on a parked deadline. */
    private static final int MAX_ERROR_CHARS = 2_000;
    private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(5);

    private final DynamoDbClient dynamoDb;
    private final String tableName;
    private final ScopeAwareProvider scopeAwareProvider;
    private final Serializer serializer;
    private final TransactionManager transactionManager;
    private final String nodeId;
    private final Duration pollInterval;
    private final Duration claimLease;
    private final int batchSize;
    private final Clock clock;
    private final boolean startOnFirstSchedule;
    private final int maxAttempts;
    private final Duration retryBackoff;
    private final DeadlineManagerSpanFactory spanFactory;

    /** Deadlines scheduled into the DynamoDB transaction open on this thread, so a bulk cancel sees them too. */
    private final ThreadLocal<PendingSchedules> pendingInTransaction = new ThreadLocal<>();

    private final Object lifecycleLock = new Object();
    private Thread poller;
    private CountDownLatch stopSignal;
    /**
     * Deadlines this node scheduled, by due time: the poller wakes for each and looks at its shard only, so a deadline
     * fires on time while the sweep of every shard (for other nodes' deadlines, and a dead node's) runs only every
     * poll interval. An idle node then costs a few queries per interval.
     */
    private final java.util.concurrent.PriorityBlockingQueue<LocalDue> localDue =
            new java.util.concurrent.PriorityBlockingQueue<>(64, java.util.Comparator.comparingLong(LocalDue::millis));
    private final Object wakeUp = new Object();
    /**
     * Fires the deadlines the poller claimed, a few at once: one slow handler (or a burst of due deadlines, as when a
     * node takes over a dead one's) no longer holds back the rest. Bounded, so the poller claims no more than it can
     * fire within the lease: when full, the poller fires the next one itself.
     */
    private volatile java.util.concurrent.ThreadPoolExecutor firing;
    private static final int FIRING_THREADS = 4;

    private record LocalDue(long millis, int shard) {
    }
    private boolean everStarted;

    protected DynamoDeadlineManager(Builder builder) {
        this.dynamoDb = Objects.requireNonNull(builder.dynamoDb, "dynamoDb");
        this.tableName = requireText(builder.tableName, "tableName");
        this.scopeAwareProvider = Objects.requireNonNull(builder.scopeAwareProvider, "scopeAwareProvider");
        this.serializer = Objects.requireNonNull(builder.serializer, "serializer");
        this.transactionManager = Objects.requireNonNull(builder.transactionManager, "transactionManager");
        this.nodeId = requireText(builder.nodeId, "nodeId");
        this.pollInterval = requirePositive(builder.pollInterval, "pollInterval");
        this.claimLease = requirePositive(builder.claimLease, "claimLease");
        if (builder.batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1");
        }
        this.batchSize = builder.batchSize;
        this.clock = Objects.requireNonNull(builder.clock, "clock");
        this.startOnFirstSchedule = builder.startOnFirstSchedule;
        if (builder.maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1");
        }
        this.maxAttempts = builder.maxAttempts;
        this.retryBackoff = requirePositive(builder.retryBackoff, "retryBackoff");
        this.spanFactory = Objects.requireNonNull(builder.spanFactory, "spanFactory");
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------------------------------------- schedule

    @Override
    public String schedule(Instant triggerDateTime, String deadlineName,
                           Object messageOrPayload, ScopeDescriptor deadlineScope) {
        DeadlineMessage<Object> message =
                GenericDeadlineMessage.asDeadlineMessage(deadlineName, messageOrPayload, triggerDateTime);
        SerializedObject<byte[]> scope = serializer.serialize(deadlineScope, byte[].class);
        ScheduleId id = ScheduleId.create(epochMillis(triggerDateTime), DeadlineItems.scopeKey(scope));
        // a schedule's three items stay in one part of a split transaction, with its saga's items if a saga's
        String group = deadlineScope instanceof org.axonframework.modelling.saga.SagaScopeDescriptor saga
                ? io.dagy.eventstore.sagas.DynamoSagaStore.group(saga.getIdentifier().toString())
                : "deadline#" + id.value();
        Span span = spanFactory.createScheduleSpan(deadlineName, id.value(), message);
        runOnPrepareCommitOrNow(span.wrapRunnable(() -> store(id,
                spanFactory.propagateContext(processDispatchInterceptors(message)), scope, group)));
        if (startOnFirstSchedule) {
            startIfNeverStarted();
        }
        return id.value();
    }

    private void store(ScheduleId id, DeadlineMessage<?> message, SerializedObject<byte[]> scope, String group) {
        String name = message.getDeadlineName();
        List<Write> writes = List.of(
                Write.put(tableName, DeadlineItems.dueItem(id, message, scope, serializer)),
                Write.put(tableName, DeadlineItems.indexItem(DeadlineItems.nameIndexKey(name, id), id)),
                Write.put(tableName, DeadlineItems.indexItem(DeadlineItems.scopeIndexKey(name, id), id)));
        Optional<DynamoTransaction> transaction = DynamoTransactionManager.current();
        if (transaction.isPresent()) {
            writes.forEach(w -> w.addTo(transaction.get(), group, this::failedWrite));
            pending(transaction.get()).add(new Pending(name, id));
        } else {
            TransactionConflicts.retried(() ->
                    dynamoDb.transactWriteItems(b -> b.transactItems(writes.stream().map(Write::item).toList())));
        }
        log.debug("Scheduled deadline [{}] as {}", name, id);
        synchronized (wakeUp) {
            localDue.add(new LocalDue(id.triggerMillis(), id.shard()));
            wakeUp.notifyAll();
        }
    }

    // ---------------------------------------------------------------------------------------------- cancel

    @Override
    public void cancelSchedule(String deadlineName, String scheduleId) {
        Span span = spanFactory.createCancelScheduleSpan(deadlineName, scheduleId);
        runOnPrepareCommitOrNow(span.wrapRunnable(() -> ScheduleId.parse(scheduleId).ifPresentOrElse(
                id -> cancel(deadlineName, List.of(id)),
                () -> log.debug("Ignoring cancel of [{}]: {} is not an id this manager hands out",
                        deadlineName, scheduleId))));
    }

    @Override
    public void cancelAll(String deadlineName) {
        Span span = spanFactory.createCancelAllSpan(deadlineName);
        runOnPrepareCommitOrNow(span.wrapRunnable(() -> cancel(deadlineName,
                stored("name#" + deadlineName, p -> p.name().equals(deadlineName)))));
    }

    @Override
    public void cancelAllWithinScope(String deadlineName, ScopeDescriptor scope) {
        String scopeKey = DeadlineItems.scopeKey(serializer.serialize(scope, byte[].class));
        Span span = spanFactory.createCancelAllWithinScopeSpan(deadlineName, scope);
        runOnPrepareCommitOrNow(span.wrapRunnable(() -> cancel(deadlineName,
                stored(DeadlineItems.scopeIndexPartition(deadlineName, scopeKey),
                        p -> p.name().equals(deadlineName) && p.id().scopeKey().equals(scopeKey)))));
    }

    /** The ids in an index partition, plus matching ones scheduled into the open transaction (not written yet). */
    private List<ScheduleId> stored(String indexPartition, Predicate<Pending> pendingMatch) {
        Map<String, ScheduleId> ids = new LinkedHashMap<>();
        dynamoDb.queryPaginator(b -> b.tableName(tableName).consistentRead(true)
                        .keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", s(indexPartition)))
                        .projectionExpression("sk"))
                .items().forEach(item -> ScheduleId.parse(item.get(DeadlineItems.SK).s())
                        .ifPresent(id -> ids.put(id.value(), id)));
        currentPending().stream().filter(pendingMatch).forEach(p -> ids.put(p.id().value(), p.id()));
        return List.copyOf(ids.values());
    }

    private void cancel(String deadlineName, List<ScheduleId> ids) {
        if (ids.isEmpty()) {
            return;
        }
        Optional<DynamoTransaction> open = DynamoTransactionManager.current();
        if (open.isEmpty()) {
            deleteDirectly(deadlineName, ids);
            return;
        }
        DynamoTransaction transaction = open.get();
        List<Pending> pending = pending(transaction);
        List<ScheduleId> joined = new ArrayList<>();
        List<ScheduleId> later = new ArrayList<>();
        for (ScheduleId id : ids) {
            boolean scheduledHere = pending.removeIf(p -> p.id().equals(id));
            // a delete of an item scheduled in this transaction replaces its put, so it adds nothing to the count
            (scheduledHere || ids.size() <= JOIN_LIMIT ? joined : later).add(id);
        }
        joined.forEach(id -> deletes(deadlineName, id).forEach(w -> w.addTo(transaction, this::failedWrite)));
        if (!later.isEmpty()) {
            transaction.afterCommit(() -> {
                try {
                    deleteDirectly(deadlineName, later);
                } catch (RuntimeException e) {
                    log.warn("Cancelling {} deadlines [{}] after the commit failed; some may still fire",
                            later.size(), deadlineName, e);
                }
            });
        }
    }

    private List<Write> deletes(String deadlineName, ScheduleId id) {
        return List.of(Write.delete(tableName, DeadlineItems.dueKey(id)),
                Write.delete(tableName, DeadlineItems.nameIndexKey(deadlineName, id)),
                Write.delete(tableName, DeadlineItems.scopeIndexKey(deadlineName, id)));
    }

    private void deleteDirectly(String deadlineName, List<ScheduleId> ids) {
        for (int from = 0; from < ids.size(); from += DIRECT_CHUNK) {
            List<TransactWriteItem> items = ids.subList(from, Math.min(ids.size(), from + DIRECT_CHUNK)).stream()
                    .flatMap(id -> deletes(deadlineName, id).stream()).map(Write::item).toList();
            TransactionConflicts.retried(() -> dynamoDb.transactWriteItems(b -> b.transactItems(items)));
        }
        log.debug("Cancelled {} deadlines [{}]", ids.size(), deadlineName);
    }

    private RuntimeException failedWrite(String reason) {
        return new DeadlineException("A deadline write failed its condition: " + reason);
    }

    // ---------------------------------------------------------------------------------------------- pending in tx

    private record Pending(String name, ScheduleId id) {
    }

    private record PendingSchedules(DynamoTransaction transaction, List<Pending> deadlines) {
    }

    private List<Pending> pending(DynamoTransaction transaction) {
        PendingSchedules current = pendingInTransaction.get();
        if (current == null || current.transaction() != transaction) {
            current = new PendingSchedules(transaction, new ArrayList<>());
            pendingInTransaction.set(current);
            transaction.afterCommit(pendingInTransaction::remove);
        }
        return current.deadlines();
    }

    private List<Pending> currentPending() {
        return DynamoTransactionManager.current().map(this::pending).orElse(List.of());
    }

    // ---------------------------------------------------------------------------------------------- firing

    private void pollLoop(CountDownLatch stop) {
        log.info("Deadline poller of node {} started on {}", nodeId, tableName);
        int failures = 0;
        long nextSweep = 0;
        while (stop.getCount() > 0) {
            boolean backlog = false;
            try {
                long now = clock.millis();
                if (now >= nextSweep) {
                    backlog = pollOnce(stop);
                    takeLocalDueBy(now); // the sweep looked at every shard
                } else if (pollShards(takeLocalDueBy(now), stop)) {
                    nextSweep = 0; // more due than one batch: sweep at once
                }
                if (failures > 0) {
                    log.info("Polling deadlines works again after {} failed polls", failures);
                    failures = 0;
                }
            } catch (RuntimeException e) {
                // an outage fails every poll: say so once, not a stack trace per poll, and poll less often meanwhile
                if (failures++ == 0) {
                    log.warn("Polling deadlines failed ({}); retrying with back-off, logged again when it works", e.toString());
                } else {
                    log.debug("Polling deadlines failed again", e);
                }
            }
            long now = clock.millis();
            if (now >= nextSweep || failures > 0) {
                nextSweep = now + (failures == 0 ? pollInterval.toMillis()
                        : Math.min(MAX_FAILURE_BACKOFF_MILLIS, pollInterval.toMillis() << Math.min(failures, 10)));
            }
            if (backlog || stop.getCount() == 0) {
                continue;
            }
            try {
                synchronized (wakeUp) {
                    LocalDue next = localDue.peek();
                    long until = next == null || failures > 0 ? nextSweep : Math.min(nextSweep, next.millis());
                    long wait = until - clock.millis();
                    if (wait > 0 && stop.getCount() > 0) {
                        wakeUp.wait(wait);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        log.info("Deadline poller of node {} stopped", nodeId);
    }

    /** The shards of this node's deadlines due by {@code now}, taken off the wake-up list. */
    private java.util.Set<Integer> takeLocalDueBy(long now) {
        java.util.Set<Integer> shards = new java.util.TreeSet<>();
        synchronized (wakeUp) {
            while (!localDue.isEmpty() && localDue.peek().millis() <= now) {
                shards.add(localDue.poll().shard());
            }
        }
        return shards;
    }

    /** Claims and fires what is due in the given shards; true if a shard had more than one batch due. */
    private boolean pollShards(Iterable<Integer> shards, CountDownLatch stop) {
        boolean backlog = false;
        for (int shard : shards) {
            List<Map<String, AttributeValue>> due = dueKeys(shard);
            backlog |= due.size() >= batchSize;
            for (Map<String, AttributeValue> key : due) {
                if (stop.getCount() == 0) {
                    return false;
                }
                claim(key).ifPresent(this::fireSoon);
            }
        }
        return backlog;
    }

    private void fireSoon(Map<String, AttributeValue> claimed) {
        java.util.concurrent.ThreadPoolExecutor pool = firing;
        if (pool == null || pool.isShutdown()) {
            fire(claimed);
        } else {
            pool.execute(() -> fire(claimed));
        }
    }

    /** Claims and fires what is due in every shard; true if a shard had more than one batch due. */
    private boolean pollOnce(CountDownLatch stop) {
        int first = ThreadLocalRandom.current().nextInt(ScheduleId.SHARDS); // spreads nodes over the shards
        return pollShards(java.util.stream.IntStream.range(0, ScheduleId.SHARDS)
                .mapToObj(i -> (first + i) % ScheduleId.SHARDS).toList(), stop);
    }

    /**
     * Up to {@code batchSize} keys of items due by now and not leased, oldest first. DynamoDB applies a query's
     * {@code Limit} before its filter, so leased (in flight or backing off) items at the head of the partition only
     * fill pages: it pages on until it has a batch or has read every item due by now, however many are leased.
     */
    private List<Map<String, AttributeValue>> dueKeys(int shard) {
        long now = clock.millis();
        QueryRequest.Builder request = QueryRequest.builder().tableName(tableName).consistentRead(true)
                .keyConditionExpression("pk = :pk AND sk <= :upper")
                .filterExpression("attribute_not_exists(leaseUntil) OR leaseUntil < :now")
                .projectionExpression("pk, sk")
                .expressionAttributeValues(Map.of(
                        ":pk", s(DeadlineItems.duePartition(shard)),
                        ":upper", s(DeadlineItems.padded(now) + "#~"),
                        ":now", n(now)))
                .limit(Math.max(batchSize, PAGE_SIZE));
        List<Map<String, AttributeValue>> keys = new ArrayList<>();
        while (keys.size() < batchSize) {
            QueryResponse response = dynamoDb.query(request.build());
            keys.addAll(response.items());
            if (!response.hasLastEvaluatedKey() || response.lastEvaluatedKey().isEmpty()) {
                break;
            }
            request.exclusiveStartKey(response.lastEvaluatedKey());
        }
        return keys.size() > batchSize ? keys.subList(0, batchSize) : keys;
    }

    /** The whole item if this node now holds the lease on it; empty if it is gone or leased by someone else. */
    private Optional<Map<String, AttributeValue>> claim(Map<String, AttributeValue> key) {
        long now = clock.millis();
        try {
            return Optional.of(dynamoDb.updateItem(b -> b.tableName(tableName).key(key)
                    .updateExpression("SET leaseOwner = :me, leaseUntil = :until, "
                            + "attempts = if_not_exists(attempts, :zero) + :one")
                    .conditionExpression("attribute_exists(pk) AND "
                            + "(attribute_not_exists(leaseUntil) OR leaseUntil < :now)")
                    .expressionAttributeValues(Map.of(":me", s(nodeId), ":until", n(now + claimLease.toMillis()),
                            ":now", n(now), ":zero", n(0), ":one", n(1)))
                    .returnValues(ReturnValue.ALL_NEW)).attributes());
        } catch (ConditionalCheckFailedException taken) {
            return Optional.empty();
        }
    }

    private void fire(Map<String, AttributeValue> item) {
        String name = item.get(DeadlineItems.DEADLINE_NAME).s();
        ScheduleId id = ScheduleId.parse(item.get(DeadlineItems.SCHEDULE_ID).s()).orElseThrow();
        DeadlineMessage<Object> message;
        ScopeDescriptor scope;
        try {
            message = DeadlineItems.message(item, serializer);
            scope = DeadlineItems.scope(item, serializer);
        } catch (RuntimeException e) {
            log.error("Deadline [{}] {} cannot be deserialized", name, id, e);
            failed(name, id, item, e);
            return;
        }
        // the span links to the trace that scheduled the deadline: its context travels in the stored metadata
        Span span = spanFactory.createExecuteSpan(name, id.value(), message).start();
        try (SpanScope unused = span.makeCurrent()) {
            fire(name, id, item, message, scope, span);
        } catch (RuntimeException e) {
            span.recordException(e);
            throw e;
        } finally {
            span.end();
        }
    }

    private void fire(String name, ScheduleId id, Map<String, AttributeValue> item, DeadlineMessage<Object> message,
                      ScopeDescriptor scope, Span span) {
        List<Write> removal = removal(name, id, item);
        AtomicBoolean removedInTransaction = new AtomicBoolean();
        AtomicBoolean cancelled = new AtomicBoolean();
        UnitOfWork<DeadlineMessage<?>> unitOfWork = new DefaultUnitOfWork<>(message);
        unitOfWork.attachTransaction(transactionManager);
        // Registered before the handler runs, so it runs before every prepare-commit step the handler adds (the event
        // bus appends the events of commands the handler sent there): the commit point of the firing. A cancel that
        // lands before it wins and nothing of the unit of work lands; one after it finds a fired deadline.
        unitOfWork.onPrepareCommit(u -> {
            if (!stillClaimed(id, item)) {
                cancelled.set(true);
                throw new DeadlineException("Deadline " + id + " was cancelled or claimed by another node while it fired");
            }
            DynamoTransactionManager.current().ifPresent(transaction -> {
                removal.forEach(w -> w.addTo(transaction, reason -> new DeadlineException(
                        "Deadline " + id + " was claimed by another node while it fired")));
                removedInTransaction.set(true);
            });
        });
        DefaultInterceptorChain<DeadlineMessage<?>> chain = new DefaultInterceptorChain<>(
                unitOfWork, handlerInterceptors(), m -> {
                    deliver(m, scope);
                    return null;
                });
        ResultMessage<?> result = unitOfWork.executeWithResult(chain::proceed);
        if (cancelled.get()) {
            log.info("Deadline [{}] {} was cancelled while it fired; its unit of work rolled back", name, id);
            return;
        }
        if (result.isExceptional()) {
            span.recordException(result.exceptionResult());
            failed(name, id, item, result.exceptionResult());
            return;
        }
        if (!removedInTransaction.get()) {
            try {
                TransactionConflicts.retried(() ->
                        dynamoDb.transactWriteItems(b -> b.transactItems(removal.stream().map(Write::item).toList())));
            } catch (TransactionCanceledException e) {
                if (TransactionConflicts.onlyConflicts(e)) {
                    log.warn("Deadline [{}] {} fired, but removing it kept conflicting with other transactions; it "
                            + "fires again when the lease of node {} expires", name, id, nodeId);
                } else {
                    log.info("Deadline [{}] {} fired, but was claimed by another node meanwhile", name, id);
                }
                return;
            }
        }
        log.debug("Deadline [{}] {} fired on node {}", name, id, nodeId);
    }

    /** The commit point: true if the due item still exists under our claim (checked with a conditional write). */
    private boolean stillClaimed(ScheduleId id, Map<String, AttributeValue> claimed) {
        try {
            dynamoDb.updateItem(b -> b.tableName(tableName).key(DeadlineItems.dueKey(id))
                    .updateExpression("SET leaseOwner = :me")
                    .conditionExpression("leaseOwner = :me AND leaseUntil = :until")
                    .expressionAttributeValues(Map.of(":me", claimed.get(LEASE_OWNER), ":until", claimed.get(LEASE_UNTIL))));
            return true;
        } catch (ConditionalCheckFailedException gone) {
            return false;
        }
    }

    /**
     * A firing failed: fire again after a back-off (doubling from {@code retryBackoff}, capped by the lease) by moving
     * our lease's end, or, at {@code maxAttempts} claims, park it: its items are replaced by a parked item in one
     * transaction, and it is logged.
     */
    private void failed(String name, ScheduleId id, Map<String, AttributeValue> claimed, Throwable error) {
        int attempts = claimed.containsKey(ATTEMPTS) ? Integer.parseInt(claimed.get(ATTEMPTS).n()) : 1;
        try {
            if (attempts >= maxAttempts) {
                park(name, id, claimed, attempts, error);
                return;
            }
            long backoff = Math.min(claimLease.toMillis(),
                    retryBackoff.toMillis() << Math.min(attempts - 1, 20));
            dynamoDb.updateItem(b -> b.tableName(tableName).key(DeadlineItems.dueKey(id))
                    .updateExpression("SET leaseUntil = :retryAt")
                    .conditionExpression("leaseOwner = :me AND leaseUntil = :until")
                    .expressionAttributeValues(Map.of(":retryAt", n(clock.millis() + backoff),
                            ":me", claimed.get(LEASE_OWNER), ":until", claimed.get(LEASE_UNTIL))));
            log.warn("Deadline [{}] {} failed (attempt {} of {}); it fires again in {} ms",
                    name, id, attempts, maxAttempts, backoff, error);
            synchronized (wakeUp) {
                localDue.add(new LocalDue(clock.millis() + backoff, id.shard()));
            }
        } catch (ConditionalCheckFailedException gone) {
            log.info("Deadline [{}] {} failed, and was cancelled or claimed by another node meanwhile", name, id);
        } catch (TransactionCanceledException e) {
            log.warn("Parking deadline [{}] {} failed ({}); it fires again when the lease of node {} expires",
                    name, id, e.getMessage(), nodeId);
        } catch (RuntimeException e) {
            log.warn("Recording the failure of deadline [{}] {} failed; it fires again when the lease of node {} "
                    + "expires", name, id, nodeId, e);
        }
    }

    private void park(String name, ScheduleId id, Map<String, AttributeValue> claimed, int attempts,
                      Throwable error) {
        Map<String, AttributeValue> parked = new java.util.HashMap<>(claimed);
        parked.putAll(DeadlineItems.key(DeadlineItems.PARKED_PARTITION, id.value()));
        parked.remove(LEASE_OWNER);
        parked.remove(LEASE_UNTIL);
        parked.put(ATTEMPTS, n(attempts));
        parked.put(DeadlineItems.LAST_ERROR, s(describe(error)));
        parked.put(DeadlineItems.PARKED_AT, s(clock.instant().toString()));
        List<TransactWriteItem> items = new ArrayList<>();
        removal(name, id, claimed).forEach(w -> items.add(w.item()));
        items.add(Write.put(tableName, parked).item());
        TransactionConflicts.retried(() -> dynamoDb.transactWriteItems(b -> b.transactItems(items)));
        log.error("Deadline [{}] {} failed {} times and is parked; it will not fire again", name, id, attempts, error);
    }

    private static String describe(Throwable error) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = error; t != null && text.length() < MAX_ERROR_CHARS; t = t.getCause() == t ? null : t.getCause()) {
            text.append(text.isEmpty() ? "" : "; caused by ").append(t);
        }
        return text.length() > MAX_ERROR_CHARS ? text.substring(0, MAX_ERROR_CHARS) : text.toString();
    }

    /**
     * Deletes the three items: the due item while our claim on it stands, or if a cancel deleted it after the commit
     * point (the deadline fired: that cancel came too late).
     */
    private List<Write> removal(String name, ScheduleId id, Map<String, AttributeValue> claimed) {
        return List.of(
                Write.deleteIf(tableName, DeadlineItems.dueKey(id),
                        "attribute_not_exists(pk) OR (leaseOwner = :me AND leaseUntil = :until)",
                        Map.of(":me", claimed.get(LEASE_OWNER), ":until", claimed.get(LEASE_UNTIL))),
                Write.delete(tableName, DeadlineItems.nameIndexKey(name, id)),
                Write.delete(tableName, DeadlineItems.scopeIndexKey(name, id)));
    }

    private void deliver(DeadlineMessage<?> message, ScopeDescriptor scope) {
        scopeAwareProvider.provideScopeAwareStream(scope)
                .filter(component -> component.canResolve(scope))
                .forEach(component -> {
                    try {
                        component.send(message, scope);
                    } catch (Exception e) {
                        throw new ExecutionException(
                                "Failed to send deadline [" + message.getDeadlineName() + "] to "
                                        + scope.scopeDescription(), e);
                    }
                });
    }

    /** A deadline that failed {@code maxAttempts} times and was taken out of firing. */
    public record ParkedDeadline(String scheduleId, String deadlineName, int attempts, String lastError,
                                 Instant parkedAt) {
    }

    /** The parked deadlines, oldest id first. */
    public List<ParkedDeadline> parkedDeadlines() {
        return dynamoDb.queryPaginator(b -> b.tableName(tableName).consistentRead(true)
                        .keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", s(DeadlineItems.PARKED_PARTITION))))
                .items().stream()
                .map(item -> new ParkedDeadline(item.get(DeadlineItems.SCHEDULE_ID).s(),
                        item.get(DeadlineItems.DEADLINE_NAME).s(), Integer.parseInt(item.get(ATTEMPTS).n()),
                        item.get(DeadlineItems.LAST_ERROR).s(), Instant.parse(item.get(DeadlineItems.PARKED_AT).s())))
                .toList();
    }

    // ---------------------------------------------------------------------------------------------- lifecycle

    /** Starts the poller; does nothing if it runs. */
    public void start() {
        synchronized (lifecycleLock) {
            if (poller != null) {
                return;
            }
            everStarted = true;
            firing = new java.util.concurrent.ThreadPoolExecutor(FIRING_THREADS, FIRING_THREADS, 0, TimeUnit.MILLISECONDS,
                    new java.util.concurrent.ArrayBlockingQueue<>(batchSize), runnable -> {
                        Thread firer = new Thread(runnable, "dagy-deadline-firing-" + nodeId);
                        firer.setDaemon(true);
                        return firer;
                    }, new java.util.concurrent.ThreadPoolExecutor.CallerRunsPolicy());
            CountDownLatch stop = new CountDownLatch(1);
            Thread thread = new Thread(() -> pollLoop(stop), "dagy-deadlines-" + nodeId);
            thread.setDaemon(true);
            stopSignal = stop;
            poller = thread;
            thread.start();
        }
    }

    private void startIfNeverStarted() {
        synchronized (lifecycleLock) {
            if (!everStarted) {
                start();
            }
        }
    }

    /**
     * Stops the poller: it claims nothing more, and a deadline firing now may finish for a few seconds. Schedule and
     * cancel keep working; {@link #start()} starts polling again.
     */
    @Override
    public void shutdown() {
        Thread thread;
        java.util.concurrent.ThreadPoolExecutor pool;
        synchronized (lifecycleLock) {
            if (poller == null) {
                return;
            }
            stopSignal.countDown();
            synchronized (wakeUp) {
                wakeUp.notifyAll();
            }
            thread = poller;
            poller = null;
            pool = firing;
            firing = null;
        }
        pool.shutdown(); // what is queued still fires; nothing new is taken
        if (thread == Thread.currentThread() || Thread.currentThread().getName().startsWith("dagy-deadline-firing-")) {
            return; // a deadline handler shut its own manager down: the loop ends after it
        }
        try {
            thread.join(SHUTDOWN_WAIT.toMillis());
            if (!pool.awaitTermination(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("Deadlines of node {} still firing after {}; their leases will expire", nodeId, SHUTDOWN_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("Deadline poller of node {} still busy after {}; interrupting it (its lease will expire)",
                    nodeId, SHUTDOWN_WAIT);
            thread.interrupt();
        }
    }

    @Override
    public void registerLifecycleHandlers(LifecycleRegistry lifecycle) {
        lifecycle.onStart(Phase.INBOUND_EVENT_CONNECTORS, this::start);
        lifecycle.onShutdown(Phase.INBOUND_EVENT_CONNECTORS, this::shutdown);
    }

    // ---------------------------------------------------------------------------------------------- helpers

    /** Rounded up, so that a deadline never fires before its instant. */
    private static long epochMillis(Instant instant) {
        try {
            return Math.addExact(instant.toEpochMilli(), instant.getNano() % 1_000_000 == 0 ? 0 : 1);
        } catch (ArithmeticException beyondLong) {
            return instant.isBefore(Instant.EPOCH) ? 0 : ScheduleId.MAX_MILLIS;
        }
    }

    private static String requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
        return value;
    }

    private static Duration requirePositive(Duration value, String name) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
        return value;
    }

    /**
     * Builds a {@link DynamoDeadlineManager}. Required: {@code dynamoDb}, {@code tableName},
     * {@code scopeAwareProvider}, {@code serializer}, {@code transactionManager}, {@code nodeId}.
     */
    public static final class Builder {

        private DynamoDbClient dynamoDb;
        private String tableName;
        private ScopeAwareProvider scopeAwareProvider;
        private Serializer serializer;
        private TransactionManager transactionManager;
        private String nodeId;
        private Duration pollInterval = Duration.ofMillis(200);
        private Duration claimLease = Duration.ofSeconds(60);
        private int batchSize = 25;
        private Clock clock = Clock.systemUTC();
        private boolean startOnFirstSchedule = true;
        private int maxAttempts = 5;
        private Duration retryBackoff = Duration.ofSeconds(1);
        private DeadlineManagerSpanFactory spanFactory = DefaultDeadlineManagerSpanFactory.builder()
                .spanFactory(NoOpSpanFactory.INSTANCE).build();

        private Builder() {
        }

        /**
         * Creates the spans of schedules, cancels and firings, as Axon's own deadline managers do (Axon's
         * configuration has one: {@code configuration.getComponent(DeadlineManagerSpanFactory.class)}). Default: no
         * tracing.
         */
        public Builder spanFactory(DeadlineManagerSpanFactory spanFactory) {
            this.spanFactory = spanFactory;
            return this;
        }

        public Builder dynamoDb(DynamoDbClient dynamoDb) {
            this.dynamoDb = dynamoDb;
            return this;
        }

        /** The physical name of the {@code DEADLINES} table. */
        public Builder tableName(String tableName) {
            this.tableName = tableName;
            return this;
        }

        /** Finds the aggregates and sagas a deadline goes to (Axon's {@code ConfigurationScopeAwareProvider}). */
        public Builder scopeAwareProvider(ScopeAwareProvider scopeAwareProvider) {
            this.scopeAwareProvider = scopeAwareProvider;
            return this;
        }

        /** Serializes payload, metadata and scope; every node must use an equivalent one. */
        public Builder serializer(Serializer serializer) {
            this.serializer = serializer;
            return this;
        }

        /** Attached to the unit of work that fires a deadline; use the {@link DynamoTransactionManager}. */
        public Builder transactionManager(TransactionManager transactionManager) {
            this.transactionManager = transactionManager;
            return this;
        }

        /** Names this node in leases and the poller thread; unique per running manager. */
        public Builder nodeId(String nodeId) {
            this.nodeId = nodeId;
            return this;
        }

        /**
         * How often every shard is swept for due deadlines: how late another node's deadline may fire here (a dead
         * node's, one whose handler backed off). This node's own deadlines wake the poller when due. Default 200 ms.
         */
        public Builder pollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
            return this;
        }

        /** How long a claim keeps other nodes off a deadline; must outlast a handler. Default 60 s. */
        public Builder claimLease(Duration claimLease) {
            this.claimLease = claimLease;
            return this;
        }

        /** Due deadlines taken per shard and poll. Default 25. */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Whether the first {@code schedule} starts the poller if nothing started it yet. Default true. */
        public Builder startOnFirstSchedule(boolean startOnFirstSchedule) {
            this.startOnFirstSchedule = startOnFirstSchedule;
            return this;
        }

        /** Firings of one deadline, the failed ones included, before it is parked. Default 5. */
        public Builder maxAttempts(int maxAttempts) {
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** Wait before the second firing of a failed deadline; doubles per attempt, capped by the lease. Default 1 s. */
        public Builder retryBackoff(Duration retryBackoff) {
            this.retryBackoff = retryBackoff;
            return this;
        }

        public DynamoDeadlineManager build() {
            return new DynamoDeadlineManager(this);
        }
    }
}
