package io.dagy.eventstore.events;

import org.axonframework.eventhandling.DomainEventData;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.TrackedDomainEventData;
import org.axonframework.eventhandling.TrackedEventData;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventsourcing.eventstore.AbstractEventStorageEngine;
import org.axonframework.eventsourcing.eventstore.EventStoreException;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.axonframework.modelling.command.ConcurrencyException;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.upcasting.event.EventUpcaster;
import org.axonframework.eventsourcing.snapshotting.SnapshotFilter;
import org.axonframework.common.jdbc.PersistenceExceptionResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkPlugin;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.TransactionConflictException;
import software.amazon.awssdk.services.dynamodb.model.TransactionInProgressException;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import static io.dagy.eventstore.events.EventItems.COUNTER;
import static io.dagy.eventstore.events.EventItems.FENCE;
import static io.dagy.eventstore.events.EventItems.PK;
import static io.dagy.eventstore.events.EventItems.POSITION;
import static io.dagy.eventstore.events.EventItems.RESERVED_BY;
import static io.dagy.eventstore.events.EventItems.SEQUENCE;
import static io.dagy.eventstore.events.EventItems.SHARD;
import static io.dagy.eventstore.events.EventItems.SK;
import static io.dagy.eventstore.events.EventItems.TIMESTAMP;
import static io.dagy.eventstore.events.EventItems.longOf;
import static io.dagy.eventstore.events.EventItems.n;
import static io.dagy.eventstore.events.EventItems.s;

/**
 * Axon's event storage on DynamoDB. {@code docs/event-store.md} explains the design; in short:
 * <ul>
 *   <li>Events live in {@code shards} position streams. An append reserves positions from its shard's counter
 *       ({@code ADD}, no conflicts), then writes, in one transaction, a stream item per event at its position and an
 *       aggregate item per domain event at its sequence number, each only if absent. The aggregate item gives
 *       optimistic concurrency and aggregate loading; the stream item gives the tracking order.</li>
 *   <li>A reader delivers a shard's positions strictly in order. A reserved position that is still empty after
 *       {@code gapTimeout} is fenced: the reader writes a fence item there, only if absent. Either the event was there
 *       (the reader reads it) or the fence is, and then the late append fails and retries at new positions. So a
 *       reader never passes a position that can still receive an event: no acknowledged event is ever skipped, and
 *       tokens need no gap lists.</li>
 * </ul>
 */
public class DynamoEventStorageEngine extends AbstractEventStorageEngine {

    private static final Logger log = LoggerFactory.getLogger(DynamoEventStorageEngine.class);
    private static final int MAX_TRANSACTION_ITEMS = 100;
    private static final long MAX_TRANSACTION_BYTES = 4L * 1024 * 1024;
    /** Largest range of positions a reader marks as seen-missing at once; beyond it, the rest waits its turn. */
    private static final int MAX_GAP_RANGE = 10_000;
    private static final int MAX_TRACKED_GAPS = 100_000;
    /** Recent positions per shard whose items this engine keeps for its own readers (some 2 KB each). */
    private static final int OWN_COMMITS_PER_SHARD = 1024;
    /** Aggregates whose shard this engine remembers (some 150 bytes each, so under 10 MB). */
    private static final int KNOWN_SHARDS = 50_000;
    /**
     * Counter updates and append transactions are retried by the engine, not the SDK: the SDK would back off while
     * the writer holds reserved positions, and would send a counter update whose answer was lost without knowing.
     */
    private static final SdkPlugin NO_SDK_RETRIES = config -> config.overrideConfiguration(
            override -> override.retryStrategy(AwsRetryStrategy.doNotRetry()));
    /** Calls of one counter update or one transaction while DynamoDB throttles it or its outcome is unknown. */
    private static final int REQUEST_ATTEMPTS = 5;

    private final DynamoDbClient dynamoDb;
    private final String eventsTable;
    private final String snapshotsTable;
    private final EventStoreSettings settings;
    private final AppendHook appendHook;
    private final Snapshots snapshots;
    private final UnaryOperator<String> placement;
    private final long idleReadNanos;
    private final long busyReadNanos;
    /** When this engine last appended (System.nanoTime). */
    private volatile long lastAppendNanos;
    /** When a stream of this engine last read events (see {@link #quiet}). */
    private volatile long lastEventReadNanos;
    /** Appends this engine committed, by shard: a shard resting since before the last one is read at once. */
    private final AtomicLongArray shardAppends;
    /** Per shard, where and when a read last reached its tail (see {@link #resting}). */
    private final AtomicReferenceArray<ShardRest> shardRests;
    /** What this engine committed lately, for its own readers (decision 91). */
    private final OwnCommits ownCommits;

    /** A read that started at {@code nanos}, after {@code appends} local appends, reached the tail at {@code at}. */
    private record ShardRest(long at, long appends, long nanos) {
    }
    /** When each missing position was first seen, by shard and position, for the gap timeout. */
    private final Map<Long, Map<Long, Long>> gapsFirstSeen = new ConcurrentHashMap<>();
    /** Threads that read shards 1.. of a batch while the caller reads shard 0; idle ones end after a minute. */
    private final ExecutorService shardReaders = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "event-shard-reader");
        thread.setDaemon(true);
        return thread;
    });
    /** The last counter read per shard: a reader at the tail reuses it briefly rather than read it on every poll. */
    private final Map<Integer, CounterReading> counterReadings = new ConcurrentHashMap<>();
    /** The shard of each recently read or written aggregate's newest event, so appends need not look it up. */
    private final KnownShards knownShards = new KnownShards(KNOWN_SHARDS);

    protected DynamoEventStorageEngine(Builder builder) {
        super(builder);
        this.dynamoDb = builder.dynamoDb;
        this.eventsTable = builder.eventsTable;
        this.snapshotsTable = builder.snapshotsTable;
        this.settings = builder.settings;
        this.placement = builder.placement;
        this.idleReadNanos = builder.idleReadInterval.toNanos();
        this.busyReadNanos = Math.min(builder.busyReadInterval.toNanos(), idleReadNanos);
        this.shardAppends = new AtomicLongArray(settings.shards());
        this.ownCommits = new OwnCommits(settings.shards(), OWN_COMMITS_PER_SHARD);
        this.shardRests = new AtomicReferenceArray<>(settings.shards());
        this.appendHook = builder.appendHook;
        this.snapshots = new Snapshots(dynamoDb, snapshotsTable, settings.compressionThreshold(), builder.snapshotReadHook);
        refuseFewerShardsThanStored();
    }

    /**
     * Refuses to start with fewer shards than the events table has used: readers would never read the shards beyond
     * the count, so their events would go undelivered. A shard has been used once its counter exists; the counters
     * from {@code shards} up are looked up in batches (one or a few requests, at start only).
     */
    private void refuseFewerShardsThanStored() {
        List<Map<String, AttributeValue>> keys = new ArrayList<>();
        for (int shard = settings.shards(); shard < EventStoreSettings.MAX_SHARDS; shard++) {
            keys.add(counterKey(shard));
        }
        int highest = -1;
        for (int from = 0; from < keys.size(); from += 100) {
            Map<String, KeysAndAttributes> request = Map.of(eventsTable, KeysAndAttributes.builder()
                    .keys(keys.subList(from, Math.min(keys.size(), from + 100))).consistentRead(true)
                    .projectionExpression("pk").build());
            while (!request.isEmpty()) {
                Map<String, KeysAndAttributes> pending = request;
                var response = dynamoDb.batchGetItem(b -> b.requestItems(pending));
                for (Map<String, AttributeValue> counter : response.responses().getOrDefault(eventsTable, List.of())) {
                    highest = Math.max(highest, shardOfCounter(counter));
                }
                request = response.unprocessedKeys();
            }
        }
        if (highest >= 0) {
            throw new IllegalStateException("the events table " + eventsTable + " holds events in shard " + highest
                    + ", but DAGY_EVENT_SHARDS is " + settings.shards() + ": shards may grow, never shrink (their events"
                    + " would never be read). Set DAGY_EVENT_SHARDS to at least " + (highest + 1) + ".");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public EventStoreSettings settings() {
        return settings;
    }

    // ---------------------------------------------------------------- appending

    @Override
    protected void appendEvents(List<? extends EventMessage<?>> events, Serializer serializer) {
        if (events.isEmpty()) {
            return;
        }
        Map<String, Integer> aggregateShards = new HashMap<>();
        List<PendingEvent> pending = events.stream().map(e -> pending(e, serializer, aggregateShards)).toList();
        checkLimits(pending);
        Map<Integer, List<PendingEvent>> byShard = new LinkedHashMap<>();
        pending.forEach(e -> byShard.computeIfAbsent(e.shard(), k -> new ArrayList<>()).add(e));

        for (int attempt = 1; ; attempt++) {
            Map<Integer, Long> firstPositions = reserve(byShard);
            // from here the positions are this engine's write on the wire, until settled (finally, below)
            firstPositions.forEach((shard, first) -> ownCommits.writing(shard, first, byShard.get(shard).size()));
            List<TransactWriteItem> items = new ArrayList<>();
            List<PendingEvent> itemEvents = new ArrayList<>();
            List<Boolean> isAggregateItem = new ArrayList<>();
            List<Runnable> keepOwn = new ArrayList<>();
            try {
                appendHook.reserved(firstPositions, byShard.entrySet().stream()
                        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().size())));
                byShard.forEach((shard, shardEvents) -> {
                    long position = firstPositions.get(shard);
                    for (PendingEvent event : shardEvents) {
                        Map<String, AttributeValue> streamItem = streamItem(event, position);
                        long at = position;
                        keepOwn.add(() -> ownCommits.committed(shard, at, streamItem,
                                EventItems.dataSize(event.attributes())));
                        items.add(putIfAbsent(streamItem));
                        itemEvents.add(event);
                        isAggregateItem.add(false);
                        if (event.aggregateId() != null) {
                            items.add(putIfAbsent(aggregateItem(event, position)));
                            itemEvents.add(event);
                            isAggregateItem.add(true);
                        }
                        position++;
                    }
                });
                write(items);
                lastAppendNanos = System.nanoTime();
                keepOwn.forEach(Runnable::run); // before the count moves, so a reader woken by it finds them
                settled(firstPositions); // after they are kept: a reader that finds them not being written has them
                // after the write, before the commit is published: a read that rested on an older count reads again
                byShard.keySet().forEach(this::countAppend);
                pending.stream().filter(e -> e.aggregateId() != null)
                        .forEach(e -> knownShards.saw(e.aggregateId(), e.sequence(), e.shard()));
                return;
            } catch (Throttled throttled) {
                // DynamoDB did not apply the transaction. Close our positions before waiting, not after: waiting
                // while holding them would hold back every reader of the shard, and past the gap timeout they would
                // be fenced anyway
                fenceReserved(firstPositions, byShard);
                settled(firstPositions);
                if (attempt >= settings.appendAttempts()) {
                    throw new EventStoreException("could not append " + events.size() + " events: throttled "
                            + attempt + " times", throttled.getCause());
                }
                log.debug("Append attempt {} throttled, retrying at new positions", attempt);
                backOffThrottled(attempt);
            } catch (TransactionCanceledException cancelled) {
                // Nothing of the transaction was written: close our reserved positions so readers need not wait.
                fenceReserved(firstPositions, byShard);
                settled(firstPositions);
                List<CancellationReason> reasons = cancelled.cancellationReasons();
                for (int i = 0; i < reasons.size(); i++) {
                    if ("ConditionalCheckFailed".equals(reasons.get(i).code()) && isAggregateItem.get(i)) {
                        throw concurrencyConflict(itemEvents.get(i), cancelled);
                    }
                }
                if (attempt >= settings.appendAttempts()) {
                    throw new EventStoreException("could not append " + events.size() + " events after " + attempt
                            + " attempts (positions fenced by readers or conflicting transactions)", cancelled);
                }
                log.debug("Append attempt {} cancelled ({}), retrying at new positions", attempt, reasons);
                if (reasons.stream().anyMatch(reason -> "ThrottlingError".equals(reason.code()))) {
                    backOffThrottled(attempt);
                } else {
                    backOff(attempt);
                }
            } finally {
                settled(firstPositions); // also when the outcome is unknown: readers read the table, and may fence
            }
        }
    }

    private void settled(Map<Integer, Long> firstPositions) {
        firstPositions.forEach(ownCommits::settled);
    }

    /** An event ready to write; {@code aggregateShards} holds the shard of each aggregate of the unit of work. */
    private PendingEvent pending(EventMessage<?> event, Serializer serializer, Map<String, Integer> aggregateShards) {
        Map<String, AttributeValue> attributes = EventItems.attributes(event, serializer, settings.compressionThreshold());
        if (event instanceof DomainEventMessage<?> domain && domain.getAggregateIdentifier() != null) {
            String aggregateId = domain.getAggregateIdentifier();
            long sequence = domain.getSequenceNumber();
            // Axon appends an aggregate's events in sequence order: the first one decides the shard
            int shard = aggregateShards.computeIfAbsent(aggregateId, id -> shardForAppend(id, sequence));
            return new PendingEvent(event, aggregateId, sequence, shard, attributes);
        }
        return new PendingEvent(event, null, 0, shardOf(event.getIdentifier()), attributes);
    }

    /**
     * The shard of a new aggregate, or of a plain event by its id: a hash modulo the shard count. {@code String.hashCode}
     * is fixed by the JLS, so every node agrees. An existing aggregate's events go where its previous event is
     * ({@link #shardForAppend}), so this decides an aggregate's shard once, with its first event.
     */
    int shardOf(String key) {
        return Math.floorMod(key.hashCode(), settings.shards());
    }

    /**
     * The shard for an aggregate's events from {@code sequence} on: that of its event {@code sequence - 1}. Readers
     * deliver a shard in position order, so an aggregate keeps its order only while its events share a shard; the
     * hash would move it to another shard when {@code shards} grows, and a gap in the old shard would then let event
     * n+1 overtake event n. The shard is known without a read when this engine has just read or written that event
     * (the usual case: the aggregate was loaded, or its cached version checked, just before); otherwise it costs one
     * strongly consistent read of that event.
     */
    private int shardForAppend(String aggregateId, long sequence) {
        if (sequence == 0) {
            return shardOf(placement.apply(aggregateId));
        }
        Integer shard = knownShards.shardAt(aggregateId, sequence - 1);
        if (shard == null) {
            Map<String, AttributeValue> previous = dynamoDb.getItem(b -> b.tableName(eventsTable).consistentRead(true)
                    .key(Map.of(PK, s(aggregateKey(aggregateId)), SK, n(sequence - 1)))
                    .projectionExpression("#shard").expressionAttributeNames(Map.of("#shard", SHARD))).item();
            // no previous event: the append is not Axon's next event of an existing aggregate; the hash decides
            shard = previous == null || !previous.containsKey(SHARD)
                    ? shardOf(placement.apply(aggregateId)) : (int) longOf(previous, SHARD);
        }
        if (shard >= settings.shards()) {
            throw new EventStoreException("aggregate " + aggregateId + " lives in shard " + shard + ", but only "
                    + settings.shards() + " shards are configured (DAGY_EVENT_SHARDS): shards may grow, never shrink,"
                    + " or the aggregate's events would go unread. Nothing was written.");
        }
        return shard;
    }

    /** Remembers the shard of an aggregate item just read, for the next append to that aggregate. */
    private Map<String, AttributeValue> sawAggregateItem(Map<String, AttributeValue> item) {
        if (item.containsKey(SHARD) && item.containsKey(EventItems.AGGREGATE)) {
            knownShards.saw(item.get(EventItems.AGGREGATE).s(), longOf(item, SEQUENCE), (int) longOf(item, SHARD));
        }
        return item;
    }

    private void checkLimits(List<PendingEvent> events) {
        long items = 0;
        long bytes = 0;
        for (PendingEvent event : events) {
            int size = EventItems.dataSize(event.attributes()) + EventItems.ITEM_OVERHEAD;
            if (size > EventItems.MAX_ITEM_BYTES) {
                throw new EventTooLargeException("event " + event.message().getIdentifier() + " of type "
                        + event.message().getPayloadType().getName() + " takes " + size
                        + " bytes after compression; a DynamoDB item holds at most " + EventItems.MAX_ITEM_BYTES
                        + ". Store large data in S3 and put its key in the event. Nothing was written.");
            }
            int copies = event.aggregateId() == null ? 1 : 2;
            items += copies;
            bytes += (long) copies * size;
        }
        if (items > MAX_TRANSACTION_ITEMS || bytes > MAX_TRANSACTION_BYTES) {
            throw new EventTooLargeException("one unit of work appends " + events.size() + " events (" + items
                    + " items, about " + bytes + " bytes); one DynamoDB transaction holds at most "
                    + MAX_TRANSACTION_ITEMS + " items and 4 MB, that is 50 domain events. Nothing was written.");
        }
    }

    /** Reserves positions in each shard of the unit of work; the first reserved position by shard. */
    private Map<Integer, Long> reserve(Map<Integer, List<PendingEvent>> byShard) {
        Map<Integer, Long> first = new HashMap<>();
        try {
            byShard.forEach((shard, events) -> first.put(shard, reserve(shard, events.size())));
        } catch (RuntimeException failed) {
            fenceReserved(first, byShard); // the shards reserved before one failed
            throw failed;
        }
        return first;
    }

    /**
     * Reserves {@code count} positions in a shard with an atomic {@code ADD} on its counter and returns the first.
     * The engine retries the update itself: throttled, it was not applied and is sent again after a pause; with an
     * unknown outcome (a 5xx, a lost connection) it is sent again at once, and may then reserve twice. The update
     * records a token of this reservation on the counter and returns the previous one: if the previous reservation
     * carries our token, our lost call did land, just before this one, and its positions are fenced here so readers
     * need not wait for the gap timeout. (If another writer reserved in between, readers fence them after the gap
     * timeout: a pause of the shard, never a loss.)
     */
    private long reserve(int shard, int count) {
        String token = UUID.randomUUID().toString();
        for (int call = 1; ; call++) {
            try {
                var response = dynamoDb.updateItem(b -> b.tableName(eventsTable)
                        .key(counterKey(shard))
                        .updateExpression("ADD #next :count SET #by = :token")
                        .expressionAttributeNames(Map.of("#next", COUNTER, "#by", RESERVED_BY))
                        .expressionAttributeValues(Map.of(":count", n(count), ":token", s(token)))
                        .returnValues(ReturnValue.UPDATED_OLD)
                        .overrideConfiguration(o -> o.addPlugin(NO_SDK_RETRIES)));
                Map<String, AttributeValue> before = response.attributes();
                long previous = before != null && before.containsKey(COUNTER) ? longOf(before, COUNTER) : 0;
                if (call > 1 && before != null && before.containsKey(RESERVED_BY) && token.equals(before.get(RESERVED_BY).s())) {
                    log.debug("A reservation in shard {} landed although its answer was lost; fencing its positions", shard);
                    for (long position = previous - count + 1; position <= previous; position++) {
                        fenceQuietly(shard, position);
                    }
                }
                return previous + 1;
            } catch (SdkException failed) {
                boolean throttled = isThrottling(failed);
                if (call >= REQUEST_ATTEMPTS || !throttled && !outcomeUnknown(failed)) {
                    throw failed;
                }
                if (throttled) {
                    backOffThrottled(call);
                }
            }
        }
    }

    /**
     * Writes the transaction, retrying it with the same client request token while its outcome is unknown (DynamoDB
     * applies a token once). A retry that finds a position fenced meanwhile is cancelled like any other attempt.
     *
     * @throws Throttled                   DynamoDB refused it for throughput; nothing was applied
     * @throws TransactionCanceledException a condition failed or transactions conflicted; nothing was applied
     */
    private void write(List<TransactWriteItem> items) {
        String token = UUID.randomUUID().toString();
        for (int call = 1; ; call++) {
            try {
                dynamoDb.transactWriteItems(b -> b.transactItems(items).clientRequestToken(token)
                        .overrideConfiguration(o -> o.addPlugin(NO_SDK_RETRIES)));
                return;
            } catch (TransactionCanceledException cancelled) {
                throw cancelled;
            } catch (SdkException failed) {
                if (isThrottling(failed)) {
                    throw new Throttled(failed);
                }
                if (call >= REQUEST_ATTEMPTS || !outcomeUnknown(failed)) {
                    // the transaction may have landed: its positions are not fenced (readers do it if it did not)
                    throw failed;
                }
                log.debug("Append transaction failed with an unknown outcome ({}), sending it again", failed.toString());
            }
        }
    }

    /** A transaction DynamoDB refused for throughput, so did not apply. */
    private static final class Throttled extends RuntimeException {
        Throttled(SdkException cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    private static boolean isThrottling(SdkException failed) {
        return failed instanceof AwsServiceException service && service.isThrottlingException();
    }

    /** Whether a failed request may have been applied: no answer, a server error, or a transaction still in progress. */
    private static boolean outcomeUnknown(SdkException failed) {
        return failed instanceof SdkClientException
                || failed instanceof TransactionInProgressException
                || failed instanceof AwsServiceException service && service.statusCode() >= 500;
    }

    private Map<String, AttributeValue> streamItem(PendingEvent event, long position) {
        Map<String, AttributeValue> item = new HashMap<>(event.attributes());
        item.put(PK, s(streamKey(event.shard(), position)));
        item.put(SK, n(position));
        return item;
    }

    private Map<String, AttributeValue> aggregateItem(PendingEvent event, long position) {
        Map<String, AttributeValue> item = new HashMap<>(event.attributes());
        item.put(PK, s(aggregateKey(event.aggregateId())));
        item.put(SK, n(event.sequence()));
        item.put(SHARD, n(event.shard()));
        item.put(POSITION, n(position));
        return item;
    }

    private TransactWriteItem putIfAbsent(Map<String, AttributeValue> item) {
        return TransactWriteItem.builder().put(Put.builder().tableName(eventsTable).item(item)
                .conditionExpression("attribute_not_exists(pk)").build()).build();
    }

    private void fenceReserved(Map<Integer, Long> firstPositions, Map<Integer, List<PendingEvent>> byShard) {
        firstPositions.forEach((shard, first) -> {
            for (long p = first; p < first + byShard.get(shard).size(); p++) {
                fenceQuietly(shard, p);
            }
        });
    }

    /** Fences a position this writer gave up; if that fails too, readers fence it after the gap timeout. */
    private void fenceQuietly(int shard, long position) {
        try {
            fence(shard, position);
        } catch (SdkException failed) {
            log.debug("Could not fence position {} of shard {} ({}); readers will after the gap timeout", position,
                    shard, failed.toString());
        }
    }

    /**
     * Writes a fence at a position unless something is there. Returns whether the fence was written. A fence that
     * conflicts with a transaction writing the same position (an append landing right now) is not written: the caller
     * treats the position as still open and looks again on its next read, when the event is there or can be fenced.
     */
    private boolean fence(int shard, long position) {
        try {
            dynamoDb.putItem(b -> b.tableName(eventsTable)
                    .item(Map.of(PK, s(streamKey(shard, position)), SK, n(position), FENCE, AttributeValue.fromBool(true)))
                    .conditionExpression("attribute_not_exists(pk)"));
            return true;
        } catch (ConditionalCheckFailedException occupied) {
            return false;
        } catch (TransactionConflictException appendLanding) {
            log.debug("Fencing position {} of shard {} conflicted with a transaction; looking again later", position, shard);
            return false;
        }
    }

    /**
     * Another event holds this event's aggregate sequence number. Like Axon's own engines, the builder's
     * {@link PersistenceExceptionResolver} decides what that is: a duplicate key (the default resolver,
     * {@link AggregateSequenceTakenException#RESOLVER}) gives {@link AggregateStreamCreationException} for sequence 0
     * and {@link ConcurrencyException} after it, anything else {@link EventStoreException}.
     */
    private RuntimeException concurrencyConflict(PendingEvent event, Exception cause) {
        try {
            handlePersistenceException(new AggregateSequenceTakenException(event.aggregateId(), event.sequence(), cause),
                    event.message());
        } catch (RuntimeException translated) {
            return translated;
        }
        return new EventStoreException("the persistence exception resolver did not decide on a taken aggregate"
                + " sequence number", cause);
    }

    private static void backOff(int attempt) {
        pause(ThreadLocalRandom.current().nextLong(1, 5L * Math.min(attempt, 10)));
    }

    /** After throttling: 25 ms doubled per attempt up to 2 s, half of it random. Positions are never held meanwhile. */
    private static void backOffThrottled(int attempt) {
        long ceiling = Math.min(2_000, 25L << Math.min(attempt - 1, 10));
        pause(ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1));
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EventStoreException("interrupted while retrying an append", e);
        }
    }

    // ---------------------------------------------------------------- tracking reads

    /**
     * The events after {@code trackingToken}. From a position (or null, the tail): the plain stream. From a
     * {@link DynamoStreamStart} serving several positions (or a {@link DynamoCatchUpToken}, which tells which positions
     * its stream's segments can stand at): first a catch-up lane per position up to their upper bound, whose steps only
     * the segments standing there take, then the plain stream from the upper bound.
     */
    @Override
    protected Stream<? extends TrackedEventData<?>> readEventData(TrackingToken trackingToken, boolean mayBlock) {
        List<DynamoTrackingToken> served = DynamoStreamStart.positionsServedBy(trackingToken);
        if (served.size() == 1) {
            return StreamSupport.stream(new TrackedSpliterator(served.get(0)), false);
        }
        return StreamSupport.stream(new CatchUpSpliterator(DynamoCatchUpToken.Plan.serving(served)), false);
    }

    /**
     * Reads batch after batch. When a batch comes back empty the stream reports no element, but a later
     * {@code tryAdvance} queries again: Axon's event store relies on this to tail the stream.
     */
    private final class TrackedSpliterator extends Spliterators.AbstractSpliterator<TrackedEventData<?>> {
        private final Deque<TrackedEventData<?>> buffer = new ArrayDeque<>();
        private DynamoTrackingToken last;

        TrackedSpliterator(DynamoTrackingToken start) {
            super(Long.MAX_VALUE, Spliterator.ORDERED | Spliterator.NONNULL);
            this.last = start;
        }

        @Override
        public boolean tryAdvance(Consumer<? super TrackedEventData<?>> action) {
            if (buffer.isEmpty()) {
                List<TrackedEventData<?>> batch = readBatch(last);
                if (!batch.isEmpty()) {
                    lastEventReadNanos = System.nanoTime();
                }
                buffer.addAll(batch);
            }
            TrackedEventData<?> next = buffer.poll();
            if (next == null) {
                return false;
            }
            last = (DynamoTrackingToken) next.trackingToken();
            action.accept(next);
            return true;
        }
    }

    /** No stream of this engine read an event, and it appended none, for two idle intervals. */
    private boolean quiet(long now, long appended) {
        return idleReadNanos > 0 && now - Math.max(lastEventReadNanos, appended) > 2 * idleReadNanos;
    }

    private void countAppend(int shard) {
        if (shard < shardAppends.length()) {
            shardAppends.incrementAndGet(shard);
        }
    }

    /**
     * True when a read of {@code shard} from {@code from} can be skipped: a read that had reached at least there found
     * the shard's tail less than a rest ago, and this engine has appended nothing to the shard since that read began.
     * The rest is the busy read interval, or the idle one once the store has been quiet for two idle intervals.
     * Axon's event store asks every poll interval and after every local commit, and opens a stream per poll, so this
     * is kept per engine, not per stream: a commit costs a read of the shards it wrote, not of all of them, and an idle
     * node asks each shard about once per idle interval. This node's own events are read at once, other nodes' within
     * a rest.
     */
    private boolean resting(int shard, long from) {
        if (busyReadNanos == 0 && idleReadNanos == 0) {
            return false;
        }
        ShardRest rest = shardRests.get(shard);
        if (rest == null || from < rest.at() || shardAppends.get(shard) != rest.appends()) {
            return false;
        }
        long now = System.nanoTime();
        long length = quiet(now, lastAppendNanos) ? idleReadNanos : busyReadNanos;
        return now - rest.nanos() < length;
    }

    /**
     * Reads {@code shard} after {@code from}, and notes where it rests when the read reaches its tail. Events this
     * engine committed right after {@code from} are taken from memory, not queried (decision 91); if the shard was
     * resting at {@code from}, it rests after them, from the time of the read that found the tail, so other nodes'
     * events are still read within the rest.
     */
    private List<Map<String, AttributeValue>> readTail(int shard, long from, int limit) {
        long appends = shardAppends.get(shard);
        List<Map<String, AttributeValue>> own = ownCommits.following(shard, from, limit);
        if (!own.isEmpty()) {
            ShardRest rest = shardRests.get(shard);
            if (rest != null && rest.at() == from) {
                shardRests.compareAndSet(shard, rest, new ShardRest(from + own.size(), appends, rest.nanos()));
            }
            return own;
        }
        long started = System.nanoTime();
        ShardRead read = readShard(shard, from, limit, Long.MAX_VALUE);
        if (read.atTail()) {
            shardRests.set(shard, new ShardRest(read.resolved(), appends, started));
        }
        return read.events();
    }

    /**
     * Reads a {@link DynamoCatchUpToken.Plan}: lane after lane, the events between the lane's position and the plan's
     * upper bound, shard by shard in position order, each as a step from where the lane stands to where it stands with
     * the event; the lane's last event steps to the upper bound itself (so the fences after it are passed too). Then the
     * plain stream from the upper bound. One event is held back until the next is known, to tell whether it is the
     * lane's last. Positions up to the upper bound were resolved by the readers that got there, so lanes rarely wait;
     * when one does (a gap), the stream reports no element and resumes on the next {@code tryAdvance}.
     */
    private final class CatchUpSpliterator extends Spliterators.AbstractSpliterator<TrackedEventData<?>> {
        private final DynamoCatchUpToken.Plan plan;
        private final int width;
        private int lane = -1;
        /** Where the current lane's segments stand after the last step handed out. */
        private DynamoTrackingToken at;
        private int shard;
        /** The current shard is read up to here (events handed out or held, fences passed). */
        private long resolved;
        private final Deque<Map<String, AttributeValue>> read = new ArrayDeque<>();
        private Map<String, AttributeValue> held;
        private int heldShard;
        /** The starts of the lanes read so far that had no event. */
        private List<DynamoTrackingToken> emptyLanes = List.of();
        private TrackedSpliterator plain;

        CatchUpSpliterator(DynamoCatchUpToken.Plan plan) {
            super(Long.MAX_VALUE, Spliterator.ORDERED | Spliterator.NONNULL);
            this.plan = plan;
            this.width = Math.max(settings.shards(), plan.upper().width());
            startLane(0);
        }

        private void startLane(int next) {
            lane = next;
            shard = 0;
            read.clear();
            held = null;
            if (lane < plan.lanes().size()) {
                at = plan.lanes().get(lane);
                resolved = at.position(0);
            }
        }

        @Override
        public boolean tryAdvance(Consumer<? super TrackedEventData<?>> action) {
            while (plain == null) {
                if (lane >= plan.lanes().size()) {
                    plain = new TrackedSpliterator(plan.upper());
                    break;
                }
                if (!fillRead()) {
                    return false; // a gap below the upper bound: look again later
                }
                Map<String, AttributeValue> next = read.poll(); // null: the lane has no more events
                int nextShard = shard;
                if (held != null) {
                    DynamoTrackingToken after = next == null ? plan.upper() : at.advancedTo(heldShard, longOf(held, SK));
                    TrackedEventData<?> step = new TrackedDomainEventData<>(
                            new DynamoCatchUpToken(plan, lane, at, after, emptyLanes), EventItems.entry(held));
                    at = after;
                    held = next;
                    heldShard = nextShard;
                    if (next == null) {
                        startLane(lane + 1);
                    }
                    action.accept(step);
                    return true;
                }
                if (next == null) {
                    // no event between this lane's position and the upper bound: its segments stay where they are
                    List<DynamoTrackingToken> empty = new ArrayList<>(emptyLanes);
                    empty.add(plan.lanes().get(lane));
                    emptyLanes = List.copyOf(empty);
                    startLane(lane + 1);
                } else {
                    held = next;
                    heldShard = nextShard;
                }
            }
            return plain.tryAdvance(action);
        }

        /**
         * Reads until an event of the lane is in {@code read} or every shard is read up to the upper bound (true), or
         * a gap stops the reading (false).
         */
        private boolean fillRead() {
            while (read.isEmpty() && shard < width) {
                long until = plan.upper().position(shard);
                if (resolved >= until) {
                    shard++;
                    resolved = at.position(shard);
                    continue;
                }
                ShardRead next = readShard(shard, resolved, settings.readBatchSize(), until);
                if (next.events().isEmpty() && next.resolved() == resolved) {
                    return false;
                }
                read.addAll(next.events());
                resolved = next.resolved();
            }
            return true;
        }
    }

    /**
     * One batch after {@code token}: each shard's next contiguous events, merged by timestamp while keeping each
     * shard's own order, each with the token that includes it and everything before it.
     */
    List<TrackedEventData<?>> readBatch(DynamoTrackingToken token) {
        int perShard = Math.max(1, settings.readBatchSize() / settings.shards());
        // nor a shard whose next position this engine is writing: a read would find a gap there (and, often, a
        // commit that landed behind it); the write's commit wakes the reader, which then takes it from memory
        List<Integer> toRead = IntStream.range(0, settings.shards())
                .filter(s -> !resting(s, token.position(s)) && !awaitingOwnWrite(s, token.position(s)))
                .boxed().toList();
        // shards whose rest at the reader's position ran out: their counters say, in one request, which to query
        List<Integer> restedHere = toRead.stream().filter(shard -> {
            ShardRest rest = shardRests.get(shard);
            return rest != null && rest.at() == token.position(shard) && !ownCommits.has(shard, token.position(shard) + 1);
        }).toList();
        if (!restedHere.isEmpty()) {
            List<Integer> moved = movedShards(token, restedHere);
            toRead = toRead.stream().filter(shard -> !restedHere.contains(shard) || moved.contains(shard)).toList();
        }
        if (toRead.isEmpty()) {
            return List.of();
        }
        List<Deque<Map<String, AttributeValue>>> heads = new ArrayList<>();
        for (int shard = 0; shard < settings.shards(); shard++) {
            heads.add(new ArrayDeque<>());
        }
        // the shards are read in parallel, the first on this thread: a batch costs one round trip, not one per shard
        Map<Integer, CompletableFuture<List<Map<String, AttributeValue>>>> reads = new LinkedHashMap<>();
        for (int shard : toRead.subList(1, toRead.size())) {
            reads.put(shard, CompletableFuture.supplyAsync(() -> readTail(shard, token.position(shard), perShard),
                    shardReaders));
        }
        int first = toRead.get(0);
        heads.get(first).addAll(readTail(first, token.position(first), perShard));
        reads.forEach((shard, read) -> {
            try {
                heads.get(shard).addAll(read.join());
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException cause ? cause : e;
            }
        });
        List<TrackedEventData<?>> batch = new ArrayList<>();
        DynamoTrackingToken current = token;
        Comparator<Map<String, AttributeValue>> byTime = Comparator.comparing(item -> Instant.parse(item.get(TIMESTAMP).s()));
        while (true) {
            int chosen = -1;
            for (int shard = 0; shard < heads.size(); shard++) {
                Map<String, AttributeValue> head = heads.get(shard).peek();
                if (head != null && (chosen < 0 || byTime.compare(head, heads.get(chosen).peek()) < 0)) {
                    chosen = shard;
                }
            }
            if (chosen < 0) {
                return batch;
            }
            Map<String, AttributeValue> item = heads.get(chosen).poll();
            current = current.advancedTo(chosen, longOf(item, SK));
            batch.add(new TrackedDomainEventData<>(current, EventItems.entry(item)));
        }
    }

    /**
     * Whether the position after {@code position} is one this engine reserved and is writing, for less than the gap
     * timeout (decision 100). Past it the shard is read as usual, so a write stuck on the wire is fenced as another
     * node's would be.
     */
    private boolean awaitingOwnWrite(int shard, long position) {
        return !ownCommits.has(shard, position + 1)
                && ownCommits.beingWritten(shard, position + 1, settings.gapTimeout().toNanos());
    }

    /**
     * The shards, of those whose rest at the reader's position ran out, that have a position reserved beyond it: their
     * counters are read in one request, and a shard whose counter is not beyond the token rests anew as if a query had
     * found its tail (no event is stored at a position not reserved first). A node at the tail so asks the store once
     * per rest, not once per shard (decisions 87 and 91); a shard the request did not answer is read as usual.
     */
    private List<Integer> movedShards(DynamoTrackingToken token, List<Integer> shards) {
        long started = System.nanoTime();
        Map<Integer, Long> appends = new HashMap<>();
        shards.forEach(shard -> appends.put(shard, shardAppends.get(shard)));
        var response = dynamoDb.batchGetItem(b -> b.requestItems(Map.of(eventsTable, KeysAndAttributes.builder()
                .keys(shards.stream().map(DynamoEventStorageEngine::counterKey).toList()).consistentRead(true)
                .build())));
        Map<Integer, Long> counters = new HashMap<>();
        for (Map<String, AttributeValue> counter : response.responses().getOrDefault(eventsTable, List.of())) {
            counters.put(shardOfCounter(counter),
                    counter.containsKey(COUNTER) ? longOf(counter, COUNTER) : 0);
        }
        Set<Integer> unanswered = new HashSet<>();
        response.unprocessedKeys().getOrDefault(eventsTable, KeysAndAttributes.builder().build()).keys()
                .forEach(key -> unanswered.add(shardOfCounter(key)));
        List<Integer> moved = new ArrayList<>();
        for (int shard : shards) {
            long counter = counters.getOrDefault(shard, 0L);
            if (unanswered.contains(shard) || counter > token.position(shard)) {
                moved.add(shard);
            } else {
                counterReadings.put(shard, new CounterReading(counter, started));
                shardRests.set(shard, new ShardRest(token.position(shard), appends.get(shard), started));
            }
        }
        return moved;
    }

    /**
     * What a read of one shard found: its events, the position up to which it resolved the shard, and whether it
     * stopped there because nothing was stored or reserved beyond (the shard's tail, as far as the read could tell).
     */
    private record ShardRead(List<Map<String, AttributeValue>> events, long resolved, boolean atTail) {
    }

    /**
     * The events of one shard after {@code after} and at most at {@code until}, in position order, stopping at the
     * first position that is neither an event nor a fence and cannot be fenced yet. Fences are skipped. A query that
     * answered fewer items than asked, with no page after them, in a bucket the read has not left, showed everything
     * stored from its start: the read goes on as if a next query had found nothing, without sending it.
     */
    private ShardRead readShard(int shard, long after, int limit, long until) {
        List<Map<String, AttributeValue>> events = new ArrayList<>();
        long expected = after + 1;
        Long counter = null;
        boolean drained = false;
        boolean atTail = false;
        reading:
        while (events.size() < limit && expected <= until) {
            List<Map<String, AttributeValue>> items;
            long from = expected;
            if (drained) {
                items = List.of();
            } else {
                boolean bounded = until < Long.MAX_VALUE;
                int asked = (int) Math.min(limit - events.size(), until - expected + 1);
                QueryResponse response = dynamoDb.query(QueryRequest.builder().tableName(eventsTable)
                        .keyConditionExpression(bounded ? "pk = :pk AND sk BETWEEN :from AND :until" : "pk = :pk AND sk >= :from")
                        .expressionAttributeValues(bounded
                                ? Map.of(":pk", s(streamKey(shard, from)), ":from", n(from), ":until", n(until))
                                : Map.of(":pk", s(streamKey(shard, from)), ":from", n(from)))
                        .consistentRead(true)
                        .limit(asked)
                        .build());
                items = response.items();
                drained = items.size() < asked
                        && (!response.hasLastEvaluatedKey() || response.lastEvaluatedKey().isEmpty());
            }
            if (items.isEmpty()) {
                drained = false;
                if (counter == null) {
                    counter = tailCounter(shard, expected);
                }
                if (counter < expected) {
                    atTail = true;
                    break; // nothing reserved beyond what we have read
                }
                if (!resolveGap(shard, expected, counter)) {
                    break;
                }
                expected++;
                continue;
            }
            for (Map<String, AttributeValue> item : items) {
                long position = longOf(item, SK);
                if (position != expected) {
                    drained = false; // the items after the gap are read again once it is decided
                    if (!resolveGap(shard, expected, position - 1)) {
                        break reading;
                    }
                    expected++;
                    continue reading;
                }
                forgetGap(shard, position);
                if (!item.containsKey(FENCE)) {
                    events.add(item);
                }
                expected++;
                if (events.size() >= limit) {
                    break reading;
                }
            }
            // a query reads one bucket: what lies beyond it needs a query of the next
            drained = drained && expected / settings.bucketSize() == from / settings.bucketSize();
        }
        return new ShardRead(events, expected - 1, atTail);
    }

    /**
     * Decides a missing position: still waiting (false), or fenced now so readers may pass it (true). Positions up to
     * {@code rangeEnd} are known missing too and start their timeout now, so a run of abandoned positions times out
     * together rather than one after another.
     */
    private boolean resolveGap(int shard, long position, long rangeEnd) {
        Map<Long, Long> seen = gapsFirstSeen.computeIfAbsent((long) shard, k -> new ConcurrentHashMap<>());
        long now = System.nanoTime();
        if (seen.size() > MAX_TRACKED_GAPS) {
            seen.clear(); // only delays fencing; never unsafe
        }
        for (long p = position; p <= Math.min(rangeEnd, position + MAX_GAP_RANGE); p++) {
            // a position this engine is writing: its gap began when the write did (its readers skipped it till now)
            seen.putIfAbsent(p, Math.min(now, ownCommits.writingSince(shard, p).orElse(now)));
        }
        long firstSeen = seen.get(position);
        if (now - firstSeen < settings.gapTimeout().toNanos()) {
            return false;
        }
        if (fence(shard, position)) {
            log.info("Fenced position {} of shard {}: reserved but not written within {}", position, shard,
                    settings.gapTimeout());
            seen.remove(position);
            return true;
        }
        return false; // an event landed just now: the next read delivers it
    }

    private void forgetGap(int shard, long position) {
        Map<Long, Long> seen = gapsFirstSeen.get((long) shard);
        if (seen != null) {
            seen.remove(position);
        }
    }

    /**
     * The shard's counter, for a reader that found nothing at {@code expected}: whether a position there is reserved
     * but not written yet (a gap at the tail). A reading that showed nothing reserved at {@code expected} is reused for
     * a quarter of the gap timeout, by a quiet engine for {@link #QUIET_COUNTER_REUSE_NANOS}. That only delays
     * noticing a tail gap, and a gap waits the whole timeout before it is fenced anyway; it saves one read per shard on
     * every poll of an idle or caught-up reader.
     */
    private long tailCounter(int shard, long expected) {
        CounterReading last = counterReadings.get(shard);
        long now = System.nanoTime();
        long reuse = settings.gapTimeout().toNanos() / 4;
        if (quiet(now, lastAppendNanos)) {
            reuse = Math.max(reuse, QUIET_COUNTER_REUSE_NANOS);
        }
        if (last != null && last.value() < expected && now - last.readAt() < reuse) {
            return last.value();
        }
        long counter = readCounter(shard);
        counterReadings.put(shard, new CounterReading(counter, now));
        return counter;
    }

    private record CounterReading(long value, long readAt) {
    }

    /**
     * How long a quiet engine reuses a counter reading that showed nothing reserved at the tail. A quiet engine's
     * idle reads would otherwise read each shard's counter once per idle interval (a sixth of what an idle node asked
     * the store). Not reading it only delays noticing a tail gap, which matters once an event lands after it: that
     * read finds the gap by the event's position and waits the gap timeout from then, as for any gap.
     */
    private static final long QUIET_COUNTER_REUSE_NANOS = Duration.ofSeconds(30).toNanos();

    private long readCounter(int shard) {
        var item = dynamoDb.getItem(b -> b.tableName(eventsTable).key(counterKey(shard)).consistentRead(true)).item();
        return item == null || !item.containsKey(COUNTER) ? 0 : longOf(item, COUNTER);
    }

    // ---------------------------------------------------------------- tokens

    @Override
    public TrackingToken createTailToken() {
        return DynamoTrackingToken.tail(settings.shards());
    }

    @Override
    public TrackingToken createHeadToken() {
        long[] positions = new long[settings.shards()];
        for (int shard = 0; shard < positions.length; shard++) {
            positions[shard] = readCounter(shard);
        }
        return new DynamoTrackingToken(positions);
    }

    /**
     * The token before the first event at or after {@code dateTime} in each shard, found by binary search over
     * positions. Timestamps are taken just before positions are reserved, so they rise with positions within a shard
     * up to the clock differences of the writing nodes.
     */
    @Override
    public TrackingToken createTokenAt(Instant dateTime) {
        long[] positions = new long[settings.shards()];
        for (int shard = 0; shard < positions.length; shard++) {
            long low = 1;
            long high = readCounter(shard) + 1;
            while (low < high) {
                long middle = low + (high - low) / 2;
                Optional<Map<String, AttributeValue>> event = firstEventFrom(shard, middle, high);
                if (event.isEmpty() || !Instant.parse(event.get().get(TIMESTAMP).s()).isBefore(dateTime)) {
                    high = middle;
                } else {
                    low = longOf(event.get(), SK) + 1;
                }
            }
            positions[shard] = low - 1;
        }
        return new DynamoTrackingToken(positions);
    }

    /** The first event (not fence) at a position in {@code [from, until)}. */
    private Optional<Map<String, AttributeValue>> firstEventFrom(int shard, long from, long until) {
        long position = from;
        while (position < until) {
            long bucketEnd = (position / settings.bucketSize() + 1) * settings.bucketSize();
            QueryResponse response = dynamoDb.query(QueryRequest.builder().tableName(eventsTable)
                    .keyConditionExpression("pk = :pk AND sk BETWEEN :from AND :to")
                    .expressionAttributeValues(Map.of(":pk", s(streamKey(shard, position)), ":from", n(position),
                            ":to", n(Math.min(until, bucketEnd) - 1)))
                    .consistentRead(true).limit(20).build());
            for (Map<String, AttributeValue> item : response.items()) {
                if (!item.containsKey(FENCE)) {
                    return Optional.of(item);
                }
            }
            position = response.hasLastEvaluatedKey() && !response.items().isEmpty()
                    ? longOf(response.items().get(response.items().size() - 1), SK) + 1
                    : bucketEnd;
        }
        return Optional.empty();
    }

    // ---------------------------------------------------------------- aggregates and snapshots

    @Override
    protected Stream<? extends DomainEventData<?>> readEventData(String identifier, long firstSequenceNumber) {
        return dynamoDb.queryPaginator(QueryRequest.builder().tableName(eventsTable)
                        .keyConditionExpression("pk = :pk AND sk >= :first")
                        .expressionAttributeValues(Map.of(":pk", s(aggregateKey(identifier)), ":first",
                                n(firstSequenceNumber)))
                        .consistentRead(true)
                        .limit(settings.readBatchSize())
                        .build())
                .items().stream()
                .map(item -> EventItems.entry(sawAggregateItem(item)));
    }

    @Override
    public Optional<Long> lastSequenceNumberFor(String aggregateIdentifier) {
        var items = dynamoDb.query(b -> b.tableName(eventsTable)
                .keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s(aggregateKey(aggregateIdentifier))))
                .scanIndexForward(false).limit(1).consistentRead(true)).items();
        return items.isEmpty() ? Optional.empty() : Optional.of(longOf(sawAggregateItem(items.get(0)), SEQUENCE));
    }

    @Override
    protected void storeSnapshot(DomainEventMessage<?> snapshot, Serializer serializer) {
        // the snapshotter read the aggregate up to the snapshot's sequence just now: its shard rides along, so an
        // append right after loading from this snapshot needs no lookup
        snapshots.store(snapshot, serializer,
                knownShards.shardAt(snapshot.getAggregateIdentifier(), snapshot.getSequenceNumber()));
    }

    @Override
    protected Stream<? extends DomainEventData<?>> readSnapshotData(String aggregateIdentifier) {
        return snapshots.read(aggregateIdentifier).stream().map(item -> EventItems.entry(sawAggregateItem(item)));
    }

    // ---------------------------------------------------------------- keys

    private String streamKey(int shard, long position) {
        return "stream#" + shard + "#" + position / settings.bucketSize();
    }

    private static String aggregateKey(String aggregateId) {
        return "agg#" + aggregateId;
    }

    /** The shard whose counter an item (or key) is. */
    private static int shardOfCounter(Map<String, AttributeValue> counter) {
        return Integer.parseInt(counter.get(PK).s().substring("counter#".length()));
    }

    private static Map<String, AttributeValue> counterKey(int shard) {
        return Map.of(PK, s("counter#" + shard), SK, n(0));
    }

    private record PendingEvent(EventMessage<?> message, String aggregateId, long sequence, int shard,
                                Map<String, AttributeValue> attributes) {
    }

    /** A test seam between reserving positions and writing them: tests delay or "kill" the writer here. */
    @FunctionalInterface
    interface AppendHook {
        AppendHook NONE = (first, counts) -> {
        };

        void reserved(Map<Integer, Long> firstPositionByShard, Map<Integer, Integer> countByShard);
    }

    /** Builds the engine; table names and the client are required, the rest has defaults. */
    public static class Builder extends AbstractEventStorageEngine.Builder {
        private DynamoDbClient dynamoDb;
        private String eventsTable;
        private String snapshotsTable;
        private EventStoreSettings settings = EventStoreSettings.defaults();
        private AppendHook appendHook = AppendHook.NONE;
        private Snapshots.ReadHook snapshotReadHook = Snapshots.ReadHook.NONE;
        private UnaryOperator<String> placement = UnaryOperator.identity();
        private Duration idleReadInterval = Duration.ZERO;
        private Duration busyReadInterval = Duration.ZERO;

        public Builder() {
            super.persistenceExceptionResolver(AggregateSequenceTakenException.RESOLVER);
        }

        public Builder dynamoDb(DynamoDbClient dynamoDb) {
            this.dynamoDb = dynamoDb;
            return this;
        }

        public Builder tables(String eventsTable, String snapshotsTable) {
            this.eventsTable = eventsTable;
            this.snapshotsTable = snapshotsTable;
            return this;
        }

        public Builder settings(EventStoreSettings settings) {
            this.settings = settings;
            return this;
        }

        /**
         * The key that places a new aggregate in a shard, from its identifier (default: the identifier itself).
         * Aggregates with the same key share a shard, so the events of one unit of work that changes them together
         * take one counter reservation, and a reader delivers them in the order they were appended. Changing it moves
         * no existing aggregate (each stays in the shard of its first event).
         */
        public Builder placement(UnaryOperator<String> placement) {
            this.placement = Objects.requireNonNull(placement, "placement");
            return this;
        }

        /**
         * How often a tailing stream reads the store once it has been quiet for two such intervals (default zero: as
         * often as it is asked). This node's appends end the rest at once.
         */
        public Builder idleReadInterval(Duration idleReadInterval) {
            this.idleReadInterval = Objects.requireNonNull(idleReadInterval, "idleReadInterval");
            return this;
        }

        /**
         * How long a tailing stream of a busy store leaves a shard unread after a read reached its tail and this
         * engine has appended nothing to it since (default zero: read every shard whenever asked; at most the idle
         * read interval). It bounds how late another node's events are seen while this one is busy, as the idle read
         * interval does while it is quiet.
         */
        public Builder busyReadInterval(Duration busyReadInterval) {
            this.busyReadInterval = Objects.requireNonNull(busyReadInterval, "busyReadInterval");
            return this;
        }

        Builder appendHook(AppendHook appendHook) {
            this.appendHook = appendHook;
            return this;
        }

        Builder snapshotReadHook(Snapshots.ReadHook snapshotReadHook) {
            this.snapshotReadHook = snapshotReadHook;
            return this;
        }

        @Override
        public Builder snapshotSerializer(Serializer snapshotSerializer) {
            super.snapshotSerializer(snapshotSerializer);
            return this;
        }

        @Override
        public Builder upcasterChain(EventUpcaster upcasterChain) {
            super.upcasterChain(upcasterChain);
            return this;
        }

        /**
         * Decides what a refused append is (default {@link AggregateSequenceTakenException#RESOLVER}): the engine
         * hands it an {@link AggregateSequenceTakenException} when another event already holds one of the append's
         * aggregate sequence numbers. A duplicate-key violation becomes Axon's {@code AggregateStreamCreationException}
         * or {@code ConcurrencyException}; anything else (or a null resolver) {@code EventStoreException}.
         */
        @Override
        public Builder persistenceExceptionResolver(PersistenceExceptionResolver persistenceExceptionResolver) {
            super.persistenceExceptionResolver(persistenceExceptionResolver);
            return this;
        }

        @Override
        public Builder eventSerializer(Serializer eventSerializer) {
            super.eventSerializer(eventSerializer);
            return this;
        }

        @Override
        public Builder snapshotFilter(SnapshotFilter snapshotFilter) {
            super.snapshotFilter(snapshotFilter);
            return this;
        }

        @Override
        protected void validate() {
            super.validate();
            Objects.requireNonNull(dynamoDb, "dynamoDb");
            Objects.requireNonNull(eventsTable, "eventsTable");
            Objects.requireNonNull(snapshotsTable, "snapshotsTable");
            Objects.requireNonNull(settings, "settings");
        }

        public DynamoEventStorageEngine build() {
            return new DynamoEventStorageEngine(this);
        }
    }
}
