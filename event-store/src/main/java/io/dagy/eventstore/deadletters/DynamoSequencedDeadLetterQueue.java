package io.dagy.eventstore.deadletters;

import io.dagy.eventstore.tokens.ClaimEpochs;

import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransaction.ItemKey;
import io.dagy.eventstore.tx.DynamoTransactionException;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.deadletter.DeadLetterQueueOverflowException;
import org.axonframework.messaging.deadletter.EnqueueDecision;
import org.axonframework.messaging.deadletter.NoSuchDeadLetterException;
import org.axonframework.messaging.deadletter.SequencedDeadLetterQueue;
import org.axonframework.messaging.deadletter.WrongDeadLetterTypeException;
import org.axonframework.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.Select;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

import static io.dagy.eventstore.deadletters.DeadLetterItems.CLAIM;
import static io.dagy.eventstore.deadletters.DeadLetterItems.CLAIMED_UNTIL;
import static io.dagy.eventstore.deadletters.DeadLetterItems.COUNT;
import static io.dagy.eventstore.deadletters.DeadLetterItems.LETTER_ID;
import static io.dagy.eventstore.deadletters.DeadLetterItems.NEXT;
import static io.dagy.eventstore.deadletters.DeadLetterItems.PK;
import static io.dagy.eventstore.deadletters.DeadLetterItems.SK;
import static io.dagy.eventstore.deadletters.DeadLetterItems.b;
import static io.dagy.eventstore.deadletters.DeadLetterItems.longOf;
import static io.dagy.eventstore.deadletters.DeadLetterItems.n;
import static io.dagy.eventstore.deadletters.DeadLetterItems.s;

/**
 * Axon's sequenced dead-letter queue on DynamoDB, one instance per processing group, all sharing
 * {@code DAGY_DEAD_LETTERS}. Items (docs/event-store.md, "Dead letters"):
 * <ul>
 *     <li>a <b>sequence header</b> per parked sequence, {@code pk = q#<group>}, {@code sk = <sequence>}: the next
 *     index, the number of letters, and the claim of whoever retries it ({@code claim}, {@code claimedUntil});</li>
 *     <li>the sequence's <b>letters</b>, {@code pk = s#<length of group>#<group>#<sequence>},
 *     {@code sk = l#<index, 19 digits>}: the event, its token, cause, times and diagnostics;</li>
 *     <li>one <b>guard</b> per parked event in the same partition, {@code sk = m#<event id>}, so an event delivered
 *     again (a batch replayed) is not parked twice.</li>
 * </ul>
 * A header exists exactly while its sequence holds letters: enqueue and evict change header, letter and guard in one
 * transaction, the header conditioned on what was read. So {@link #contains} is one read, and two nodes that race on
 * a sequence (one parking behind it, one retrying its last letter) conflict instead of reordering it.
 *
 * <p>{@link #enqueue} joins the {@link DynamoTransaction} open on the thread: a letter is parked together with the
 * processor's token and the effects of the rest of its batch, or not at all. Within a transaction the headers are read
 * once and the transaction's own letters counted, so a batch asks DynamoDB once whether anything is parked, and an
 * event sees a sequence an earlier event of its batch parked. Everything else writes at once.
 *
 * <p>{@link #process} claims the sequence it retries (a conditional write, expiring after {@code claimDuration}), so
 * two nodes never retry one sequence at once; each letter's handling and its eviction commit in one transaction of
 * their own.
 */
public final class DynamoSequencedDeadLetterQueue implements SequencedDeadLetterQueue<EventMessage<?>> {

    private static final Logger log = LoggerFactory.getLogger(DynamoSequencedDeadLetterQueue.class);

    /** How often a write that lost a race on a sequence header is tried again with what is stored then. */
    private static final int ATTEMPTS = 10;
    private static final String LETTER_PREFIX = "l#";
    private static final String GUARD_PREFIX = "m#";
    private static final Map<String, String> NAMES = Map.of("#next", NEXT, "#count", COUNT);

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final String processingGroup;
    private final Serializer eventSerializer;
    private final Serializer serializer;
    private final int maxSequences;
    private final int maxSequenceSize;
    private final Duration claimDuration;
    private final int pageSize;
    private final Clock clock;
    private final DynamoTransactionManager transactions;
    private final ClaimEpochs claimEpochs;
    /** The group's headers as last read, for transactions of this node's processor (see {@link #parkedHeaders}). */
    private volatile ReadHeaders lastRead;
    /** Parks and removals by this node (a park counted once it is written or committed). */
    private final AtomicLong changes = new AtomicLong();

    /** Headers read after {@code epoch} claims on the group's segments and {@code changes} changes, at {@code nanos}. */
    private record ReadHeaders(List<Header> headers, long epoch, long changes, long nanos) {
    }

    /** The longest a processor's transactions reuse the headers read for an earlier one. */
    private static final long HEADER_REUSE_NANOS = Duration.ofSeconds(10).toNanos();

    private DynamoSequencedDeadLetterQueue(Builder builder) {
        this.dynamoDb = builder.dynamoDb;
        this.table = builder.table;
        this.processingGroup = builder.processingGroup;
        this.eventSerializer = builder.eventSerializer;
        this.serializer = builder.serializer;
        this.maxSequences = builder.maxSequences;
        this.maxSequenceSize = builder.maxSequenceSize;
        this.claimDuration = builder.claimDuration;
        this.pageSize = builder.pageSize;
        this.clock = builder.clock;
        this.transactions = new DynamoTransactionManager(dynamoDb);
        this.claimEpochs = builder.claimEpochs;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String processingGroup() {
        return processingGroup;
    }

    public int maxSequences() {
        return maxSequences;
    }

    public int maxSequenceSize() {
        return maxSequenceSize;
    }

    // ------------------------------------------------------------------------------------------------- enqueueing

    @Override
    public void enqueue(Object sequenceIdentifier, DeadLetter<? extends EventMessage<?>> letter) {
        String sequence = sequenceOf(sequenceIdentifier);
        Optional<DynamoTransaction> transaction = DynamoTransactionManager.current();
        if (transaction.isPresent()) {
            enqueueIn(transaction.get(), sequence, letter);
        } else {
            enqueueNow(sequence, letter);
            headersChanged(); // after the write, so no read made before it is reused
        }
        if (letter.cause().isPresent()) {
            log.warn("Processor '{}' parked event {} ({}) and its sequence '{}': {}", processingGroup,
                    letter.message().getIdentifier(), letter.message().getPayloadType().getName(), sequence,
                    letter.cause().get());
        } else {
            log.info("Processor '{}' parked event {} behind its sequence '{}'", processingGroup,
                    letter.message().getIdentifier(), sequence);
        }
    }

    private void enqueueIn(DynamoTransaction transaction, String sequence, DeadLetter<? extends EventMessage<?>> letter) {
        Pending pending = transaction.resource(this, Pending::new);
        Map<String, HeaderState> headers = pending.headers();
        String messageId = letter.message().getIdentifier();
        if (pending.guards.contains(guardKey(sequence, messageId)) || guardStored(sequence, messageId)) {
            log.debug("Event {} is parked in sequence '{}' already", messageId, sequence);
            return;
        }
        HeaderState header = headers.get(sequence);
        if (header != null ? header.count >= maxSequenceSize : headers.size() >= maxSequences) {
            throw overflow(sequence, letter);
        }
        if (header == null) {
            header = HeaderState.created(sequence);
            headers.put(sequence, header);
        }
        long index = header.add();
        Function<String, RuntimeException> conflict = detail -> conflict(sequence, detail);
        // parking records progress, like the token: in the last part should the transaction be split
        transaction.writeLast(new ItemKey(table, letterKey(sequence, index)), putLetter(sequence, index, letter), conflict);
        transaction.writeLast(new ItemKey(table, guardItemKey(sequence, messageId)), putGuard(sequence, messageId), conflict);
        transaction.writeLast(new ItemKey(table, headerKey(sequence)), header.render(this), conflict);
        pending.guards.add(guardKey(sequence, messageId));
        // counted once committed: a read that ran before the commit must not be reused after it
        transaction.afterCommit(this::headersChanged);
    }

    private void enqueueNow(String sequence, DeadLetter<? extends EventMessage<?>> letter) {
        String messageId = letter.message().getIdentifier();
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            if (guardStored(sequence, messageId)) {
                log.debug("Event {} is parked in sequence '{}' already", messageId, sequence);
                return;
            }
            Optional<Header> stored = readHeader(sequence);
            if (stored.isPresent() ? stored.get().count() >= maxSequenceSize : amountOfSequences() >= maxSequences) {
                throw overflow(sequence, letter);
            }
            HeaderState header = stored.map(HeaderState::stored).orElseGet(() -> HeaderState.created(sequence));
            long index = header.add();
            try {
                dynamoDb.transactWriteItems(b -> b.transactItems(putLetter(sequence, index, letter),
                        putGuard(sequence, messageId), header.render(this)));
                return;
            } catch (TransactionCanceledException cancelled) {
                if (failed(cancelled, 1)) {
                    return; // the guard exists: another delivery of this event parked it meanwhile
                }
                log.debug("Sequence '{}' changed while parking event {}; trying again", sequence, messageId);
            }
        }
        throw conflict(sequence, "it kept changing while an event was parked in it");
    }

    @Override
    public boolean contains(Object sequenceIdentifier) {
        String sequence = sequenceOf(sequenceIdentifier);
        Optional<DynamoTransaction> transaction = DynamoTransactionManager.current();
        if (transaction.isPresent()) {
            return transaction.get().resource(this, Pending::new).headers().containsKey(sequence);
        }
        return readHeader(sequence).isPresent();
    }

    // ------------------------------------------------------------------------------------------------- removing

    @Override
    public void evict(DeadLetter<? extends EventMessage<?>> letter) {
        DynamoDeadLetter ours = ours(letter, "evict");
        headersChanged();
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Optional<Header> header = readHeader(ours.sequenceIdentifier());
            if (header.isEmpty()) {
                log.info("Dead letter {} of sequence '{}' was evicted already", ours.letterId(), ours.sequenceIdentifier());
                return;
            }
            try {
                dynamoDb.transactWriteItems(b -> b.transactItems(evictWrites(ours, header.get())));
                log.info("Processor '{}' evicted event {} from sequence '{}'", processingGroup,
                        ours.message().getIdentifier(), ours.sequenceIdentifier());
                return;
            } catch (TransactionCanceledException cancelled) {
                if (failed(cancelled, 0)) {
                    log.info("Dead letter {} of sequence '{}' was evicted already", ours.letterId(),
                            ours.sequenceIdentifier());
                    return;
                }
            }
        }
        throw conflict(ours.sequenceIdentifier(), "it kept changing while a letter was evicted");
    }

    /**
     * The writes that remove a letter: the letter (if it is still this one), its guard, and the header (one letter
     * less, or gone with the last letter unless another was parked meanwhile).
     */
    private List<TransactWriteItem> evictWrites(DynamoDeadLetter letter, Header header) {
        String sequence = letter.sequenceIdentifier();
        List<TransactWriteItem> writes = new ArrayList<>();
        writes.add(TransactWriteItem.builder().delete(Delete.builder().tableName(table)
                .key(letterKey(sequence, letter.index()))
                .conditionExpression("#lid = :lid").expressionAttributeNames(Map.of("#lid", LETTER_ID))
                .expressionAttributeValues(Map.of(":lid", s(letter.letterId()))).build()).build());
        writes.add(TransactWriteItem.builder().delete(Delete.builder().tableName(table)
                .key(guardItemKey(sequence, letter.message().getIdentifier())).build()).build());
        if (header.count() <= 1) {
            writes.add(TransactWriteItem.builder().delete(Delete.builder().tableName(table).key(headerKey(sequence))
                    .conditionExpression("#count = :one AND #next = :next").expressionAttributeNames(NAMES)
                    .expressionAttributeValues(Map.of(":one", n(1), ":next", n(header.next()))).build()).build());
        } else {
            writes.add(TransactWriteItem.builder().update(Update.builder().tableName(table).key(headerKey(sequence))
                    .updateExpression("SET #count = #count - :one").conditionExpression("#count > :one")
                    .expressionAttributeNames(Map.of("#count", COUNT))
                    .expressionAttributeValues(Map.of(":one", n(1))).build()).build());
        }
        return writes;
    }

    @Override
    public void requeue(DeadLetter<? extends EventMessage<?>> letter,
                        UnaryOperator<DeadLetter<? extends EventMessage<?>>> letterUpdater) {
        DynamoDeadLetter ours = ours(letter, "requeue");
        DeadLetter<? extends EventMessage<?>> updated = letterUpdater.apply(ours).markTouched();
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":lid", s(ours.letterId()),
                ":touched", s(updated.lastTouched().toString()),
                ":diag", b(eventSerializer.serialize(updated.diagnostics(), byte[].class).getData())));
        Map<String, String> names = new HashMap<>(Map.of("#lid", LETTER_ID, "#touched", DeadLetterItems.LAST_TOUCHED,
                "#diag", DeadLetterItems.DIAGNOSTICS, "#ct", DeadLetterItems.CAUSE_TYPE,
                "#cm", DeadLetterItems.CAUSE_MESSAGE));
        String expression = "SET #touched = :touched, #diag = :diag";
        if (updated.cause().isPresent()) {
            Map<String, AttributeValue> cause = new HashMap<>();
            DeadLetterItems.putCause(cause, updated.cause().get());
            values.put(":ct", cause.get(DeadLetterItems.CAUSE_TYPE));
            expression += ", #ct = :ct";
            if (cause.containsKey(DeadLetterItems.CAUSE_MESSAGE)) {
                values.put(":cm", cause.get(DeadLetterItems.CAUSE_MESSAGE));
                expression += ", #cm = :cm";
            } else {
                expression += " REMOVE #cm";
            }
        } else {
            expression += " REMOVE #ct, #cm";
        }
        String update = expression;
        try {
            dynamoDb.updateItem(b -> b.tableName(table).key(letterKey(ours.sequenceIdentifier(), ours.index()))
                    .updateExpression(update).conditionExpression("#lid = :lid")
                    .expressionAttributeNames(names).expressionAttributeValues(values));
        } catch (ConditionalCheckFailedException gone) {
            throw new NoSuchDeadLetterException("Cannot requeue event " + ours.message().getIdentifier()
                    + ": it is no longer in sequence '" + ours.sequenceIdentifier() + "' of processor '"
                    + processingGroup + "'");
        }
    }

    @Override
    public void clear() {
        headersChanged();
        for (Header header : readHeaders()) {
            List<Map<String, AttributeValue>> keys = new ArrayList<>();
            dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true).keyConditionExpression("pk = :pk")
                            .projectionExpression("pk, sk")
                            .expressionAttributeValues(Map.of(":pk", s(sequencePk(header.sequence())))))
                    .items().forEach(keys::add);
            keys.add(headerKey(header.sequence()));
            for (int from = 0; from < keys.size(); from += 25) {
                Map<String, List<WriteRequest>> pending = Map.of(table, keys.subList(from, Math.min(keys.size(), from + 25))
                        .stream().map(key -> WriteRequest.builder().deleteRequest(d -> d.key(key)).build()).toList());
                while (!pending.isEmpty()) {
                    Map<String, List<WriteRequest>> request = pending;
                    var response = dynamoDb.batchWriteItem(b -> b.requestItems(request));
                    pending = response.hasUnprocessedItems() ? response.unprocessedItems() : Map.of();
                }
            }
        }
        log.info("Processor '{}': every dead letter removed", processingGroup);
    }

    // ------------------------------------------------------------------------------------------------- reading

    @Override
    public Iterable<DeadLetter<? extends EventMessage<?>>> deadLetterSequence(Object sequenceIdentifier) {
        String sequence = sequenceOf(sequenceIdentifier);
        return () -> dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true).limit(pageSize)
                        .keyConditionExpression("pk = :pk AND begins_with(sk, :letters)")
                        .expressionAttributeValues(Map.of(":pk", s(sequencePk(sequence)), ":letters", s(LETTER_PREFIX))))
                .items().stream()
                .<DeadLetter<? extends EventMessage<?>>>map(this::letter)
                .iterator();
    }

    @Override
    public Iterable<Iterable<DeadLetter<? extends EventMessage<?>>>> deadLetters() {
        List<Iterable<DeadLetter<? extends EventMessage<?>>>> sequences = new ArrayList<>();
        readHeaders().forEach(header -> sequences.add(deadLetterSequence(header.sequence())));
        return sequences;
    }

    @Override
    public boolean isFull(Object sequenceIdentifier) {
        long inSequence = sequenceSize(sequenceIdentifier);
        return inSequence > 0 ? inSequence >= maxSequenceSize : amountOfSequences() >= maxSequences;
    }

    @Override
    public long size() {
        Optional<DynamoTransaction> transaction = DynamoTransactionManager.current();
        if (transaction.isPresent()) {
            return transaction.get().resource(this, Pending::new).headers().values().stream().mapToLong(h -> h.count).sum();
        }
        return readHeaders().stream().mapToLong(Header::count).sum();
    }

    @Override
    public long sequenceSize(Object sequenceIdentifier) {
        String sequence = sequenceOf(sequenceIdentifier);
        Optional<DynamoTransaction> transaction = DynamoTransactionManager.current();
        if (transaction.isPresent()) {
            HeaderState header = transaction.get().resource(this, Pending::new).headers().get(sequence);
            return header == null ? 0 : header.count;
        }
        return readHeader(sequence).map(Header::count).orElse(0L);
    }

    @Override
    public long amountOfSequences() {
        Optional<DynamoTransaction> transaction = DynamoTransactionManager.current();
        if (transaction.isPresent()) {
            return transaction.get().resource(this, Pending::new).headers().size();
        }
        long count = 0;
        for (var page : dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true).select(Select.COUNT)
                .keyConditionExpression("pk = :pk").expressionAttributeValues(Map.of(":pk", s(headerPk()))))) {
            count += page.count();
        }
        return count;
    }

    /** Every parked sequence of this processor with its first letter, oldest first failure first. */
    public List<ParkedSequence> sequences() {
        List<ParkedSequence> sequences = new ArrayList<>();
        long now = clock.millis();
        for (Header header : readHeaders()) {
            head(header.sequence()).ifPresent(head -> sequences.add(
                    new ParkedSequence(processingGroup, header.sequence(), header.count(), head, header.claimedAt(now))));
        }
        sequences.sort(Comparator.comparing(parked -> parked.head().enqueuedAt()));
        return sequences;
    }

    /** One parked sequence with its first letter, if it holds letters. */
    public Optional<ParkedSequence> sequence(String sequence) {
        return readHeader(sequence).flatMap(header -> head(sequence).map(head ->
                new ParkedSequence(processingGroup, sequence, header.count(), head, header.claimedAt(clock.millis()))));
    }

    /**
     * A parked sequence as an operator sees it.
     *
     * @param processingGroup the processor
     * @param sequence        the sequence identifier (a run, an aggregate)
     * @param size            letters in the sequence
     * @param head            the first letter: the event that failed, with its cause, when it was parked and when it
     *                        last failed
     * @param claimed         whether a retry holds it now
     */
    public record ParkedSequence(String processingGroup, String sequence, long size, DynamoDeadLetter head,
                                 boolean claimed) {
    }

    // ------------------------------------------------------------------------------------------------- processing

    /**
     * Claims the matching sequence whose first letter was touched longest ago and hands its letters to the task in
     * order, each in a transaction of its own that also evicts it when the task says so. Stops at the first letter
     * the task keeps (requeued with the task's cause and diagnostics), or when the sequence is empty; returns whether
     * it emptied the sequence. Runs outside the caller's transaction, so each letter's effects commit on their own.
     */
    @Override
    public boolean process(Predicate<DeadLetter<? extends EventMessage<?>>> sequenceFilter,
                           Function<DeadLetter<? extends EventMessage<?>>, EnqueueDecision<EventMessage<?>>> processingTask) {
        return DynamoTransactionManager.outside(() -> {
            for (DynamoDeadLetter head : claimableHeads()) {
                if (!sequenceFilter.test(head)) {
                    continue;
                }
                String claim = UUID.randomUUID().toString();
                if (!claim(head.sequenceIdentifier(), claim)) {
                    continue;
                }
                try {
                    return processClaimed(head.sequenceIdentifier(), claim, processingTask);
                } finally {
                    release(head.sequenceIdentifier(), claim);
                }
            }
            log.debug("Processor '{}': no unclaimed parked sequence matches", processingGroup);
            return false;
        });
    }

    private boolean processClaimed(String sequence, String claim,
                                   Function<DeadLetter<? extends EventMessage<?>>, EnqueueDecision<EventMessage<?>>> task) {
        int conflicts = 0;
        while (true) {
            Optional<DynamoDeadLetter> next = head(sequence);
            if (next.isEmpty()) {
                return true;
            }
            if (!extendClaim(sequence, claim)) {
                log.warn("Processor '{}' lost its claim on sequence '{}' while retrying it", processingGroup, sequence);
                return false;
            }
            DynamoDeadLetter letter = next.get();
            DynamoTransaction transaction = (DynamoTransaction) transactions.startTransaction();
            EnqueueDecision<EventMessage<?>> decision;
            try {
                decision = task.apply(letter);
            } catch (RuntimeException failed) {
                transaction.rollback();
                keep(letter, l -> l.withCause(failed));
                return false;
            }
            if (decision.shouldEnqueue()) {
                transaction.rollback();
                keep(letter, l -> decision.withDiagnostics(l).withCause(decision.enqueueCause().orElse(null)));
                log.info("Processor '{}' kept event {} of sequence '{}' parked: {}", processingGroup,
                        letter.message().getIdentifier(), sequence, decision.enqueueCause().orElse(null));
                return false;
            }
            if (transaction.isRollbackOnly()) {
                // the handler failed and the task still chose to evict: evict alone, its effects are gone
                transaction.rollback();
                transaction = (DynamoTransaction) transactions.startTransaction();
            }
            Optional<Header> header = readHeader(sequence);
            if (header.isEmpty()) {
                transaction.rollback();
                return true;
            }
            List<TransactWriteItem> evict = evictWrites(letter, header.get());
            for (TransactWriteItem write : evict) {
                transaction.writeLast(new ItemKey(table, keyOf(write)), write,
                        detail -> new EvictConflict(sequence));
            }
            try {
                transaction.commit();
                log.info("Processor '{}' handled parked event {} of sequence '{}'", processingGroup,
                        letter.message().getIdentifier(), sequence);
            } catch (EvictConflict | DynamoTransactionException raced) {
                // another letter was parked behind this one meanwhile: nothing was written, handle it again
                if (++conflicts >= ATTEMPTS) {
                    log.warn("Processor '{}' could not evict from sequence '{}': it kept changing", processingGroup, sequence);
                    return false;
                }
            } catch (RuntimeException failed) {
                // the handler's effects could not be written (a condition of its own failed): the letter stays
                keep(letter, l -> l.withCause(failed));
                return false;
            }
        }
    }

    /** Requeues a letter a retry keeps, unless it is gone: a retry that took over after this claim expired. */
    private void keep(DynamoDeadLetter letter, UnaryOperator<DeadLetter<? extends EventMessage<?>>> update) {
        try {
            requeue(letter, update);
        } catch (NoSuchDeadLetterException gone) {
            log.warn("Processor '{}': letter of event {} left sequence '{}' while this node retried it (its claim "
                    + "expired)", processingGroup, letter.message().getIdentifier(), letter.sequenceIdentifier());
        }
    }

    /** The first letter of every sequence nobody is retrying, first letters touched longest ago first. */
    private List<DynamoDeadLetter> claimableHeads() {
        long now = clock.millis();
        List<DynamoDeadLetter> heads = new ArrayList<>();
        for (Header header : readHeaders()) {
            if (!header.claimedAt(now)) {
                head(header.sequence()).ifPresent(heads::add);
            }
        }
        heads.sort(Comparator.comparing(DynamoDeadLetter::lastTouched));
        return heads;
    }

    private boolean claim(String sequence, String claim) {
        long now = clock.millis();
        try {
            dynamoDb.updateItem(b -> b.tableName(table).key(headerKey(sequence))
                    .updateExpression("SET #claim = :claim, #until = :until")
                    .conditionExpression("attribute_exists(pk) AND (attribute_not_exists(#until) OR #until <= :now)")
                    .expressionAttributeNames(Map.of("#claim", CLAIM, "#until", CLAIMED_UNTIL))
                    .expressionAttributeValues(Map.of(":claim", s(claim), ":until", n(now + claimDuration.toMillis()),
                            ":now", n(now))));
            return true;
        } catch (ConditionalCheckFailedException taken) {
            return false;
        }
    }

    private boolean extendClaim(String sequence, String claim) {
        try {
            dynamoDb.updateItem(b -> b.tableName(table).key(headerKey(sequence))
                    .updateExpression("SET #until = :until").conditionExpression("#claim = :claim")
                    .expressionAttributeNames(Map.of("#claim", CLAIM, "#until", CLAIMED_UNTIL))
                    .expressionAttributeValues(Map.of(":claim", s(claim),
                            ":until", n(clock.millis() + claimDuration.toMillis()))));
            return true;
        } catch (ConditionalCheckFailedException lost) {
            return false;
        }
    }

    private void release(String sequence, String claim) {
        try {
            dynamoDb.updateItem(b -> b.tableName(table).key(headerKey(sequence))
                    .updateExpression("REMOVE #claim, #until").conditionExpression("#claim = :claim")
                    .expressionAttributeNames(Map.of("#claim", CLAIM, "#until", CLAIMED_UNTIL))
                    .expressionAttributeValues(Map.of(":claim", s(claim))));
        } catch (ConditionalCheckFailedException goneOrTaken) {
            // the sequence was emptied (its header went with its last letter), or the claim expired and was taken
        }
    }

    // ------------------------------------------------------------------------------------------------- items

    /** A sequence header as stored. */
    record Header(String sequence, long next, long count, String claim, long claimedUntil) {
        boolean claimedAt(long now) {
            return claim != null && claimedUntil > now;
        }
    }

    /** A header as this transaction will leave it: what was read, plus the letters it parks. */
    static final class HeaderState {
        final String sequence;
        final boolean stored;
        final long storedNext;
        long next;
        long count;
        long added;

        private HeaderState(String sequence, boolean stored, long next, long count) {
            this.sequence = sequence;
            this.stored = stored;
            this.storedNext = next;
            this.next = next;
            this.count = count;
        }

        static HeaderState stored(Header header) {
            return new HeaderState(header.sequence(), true, header.next(), header.count());
        }

        static HeaderState created(String sequence) {
            return new HeaderState(sequence, false, 0, 0);
        }

        /** Takes the next index for a letter. */
        long add() {
            count++;
            added++;
            return next++;
        }

        TransactWriteItem render(DynamoSequencedDeadLetterQueue queue) {
            if (!stored) {
                Map<String, AttributeValue> item = new HashMap<>(queue.headerKey(sequence));
                item.put(NEXT, n(next));
                item.put(COUNT, n(count));
                return TransactWriteItem.builder().put(Put.builder().tableName(queue.table).item(item)
                        .conditionExpression("attribute_not_exists(pk)").build()).build();
            }
            return TransactWriteItem.builder().update(Update.builder().tableName(queue.table).key(queue.headerKey(sequence))
                    .updateExpression("SET #next = :next, #count = #count + :added")
                    .conditionExpression("#next = :seen").expressionAttributeNames(NAMES)
                    .expressionAttributeValues(Map.of(":next", n(next), ":added", n(added), ":seen", n(storedNext)))
                    .build()).build();
        }
    }

    /** What one transaction knows: every header of the processor (read once) and the events it parked. */
    private final class Pending {
        private Map<String, HeaderState> headers;
        private final Set<String> guards = new HashSet<>();

        Map<String, HeaderState> headers() {
            if (headers == null) {
                headers = new HashMap<>();
                parkedHeaders().forEach(header -> headers.put(header.sequence(), HeaderState.stored(header)));
            }
            return headers;
        }
    }

    /**
     * The group's headers for a processor's transaction: read again only when this node has claimed a segment of
     * the group since the last read, parked or evicted something itself, or 10 seconds have passed. That is safe
     * because a sequence is only ever parked by the node holding its segment's claim, in the transaction that moves
     * its token (conditional on the claim): a sequence another node parked is in a segment this node either does not
     * hold, or claimed after it, which makes it read again. What another node can do meanwhile is evict or retry a
     * parked sequence, and that only removes letters: this node may park an event behind a sequence that has just
     * emptied, whose header write then fails, and the batch is retried with the headers read again. Without a
     * {@link ClaimEpochs} every transaction reads the headers.
     */
    private List<Header> parkedHeaders() {
        if (claimEpochs == null) {
            return readHeaders();
        }
        // both noted before the read: a claim or a change made while it runs makes the next transaction read again
        long epoch = claimEpochs.of(processingGroup);
        long changed = changes.get();
        long now = System.nanoTime();
        ReadHeaders last = lastRead;
        if (last != null && last.epoch() == epoch && last.changes() == changed && now - last.nanos() < HEADER_REUSE_NANOS) {
            return last.headers();
        }
        List<Header> headers = List.copyOf(readHeaders());
        lastRead = new ReadHeaders(headers, epoch, changed, now);
        return headers;
    }

    /** What this node parks or removes makes its processor read the headers again. */
    private void headersChanged() {
        changes.incrementAndGet();
    }

    private TransactWriteItem putLetter(String sequence, long index, DeadLetter<? extends EventMessage<?>> letter) {
        Map<String, AttributeValue> item = DeadLetterItems.letterAttributes(UUID.randomUUID().toString(), sequence,
                index, letter, eventSerializer, serializer);
        item.putAll(letterKey(sequence, index));
        return TransactWriteItem.builder().put(Put.builder().tableName(table).item(item)
                .conditionExpression("attribute_not_exists(pk)").build()).build();
    }

    private TransactWriteItem putGuard(String sequence, String messageId) {
        return TransactWriteItem.builder().put(Put.builder().tableName(table).item(guardItemKey(sequence, messageId))
                .conditionExpression("attribute_not_exists(pk)").build()).build();
    }

    private boolean guardStored(String sequence, String messageId) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(guardItemKey(sequence, messageId)))
                .item();
        return item != null && !item.isEmpty();
    }

    private Optional<Header> readHeader(String sequence) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(headerKey(sequence))).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(header(item));
    }

    private List<Header> readHeaders() {
        List<Header> headers = new ArrayList<>();
        dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true).keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", s(headerPk()))))
                .items().forEach(item -> headers.add(header(item)));
        return headers;
    }

    private static Header header(Map<String, AttributeValue> item) {
        return new Header(item.get(SK).s(), longOf(item, NEXT), longOf(item, COUNT),
                item.containsKey(CLAIM) ? item.get(CLAIM).s() : null,
                item.containsKey(CLAIMED_UNTIL) ? longOf(item, CLAIMED_UNTIL) : 0L);
    }

    private Optional<DynamoDeadLetter> head(String sequence) {
        var items = dynamoDb.query(b -> b.tableName(table).consistentRead(true).limit(1)
                .keyConditionExpression("pk = :pk AND begins_with(sk, :letters)")
                .expressionAttributeValues(Map.of(":pk", s(sequencePk(sequence)), ":letters", s(LETTER_PREFIX)))).items();
        return items.isEmpty() ? Optional.empty() : Optional.of(letter(items.get(0)));
    }

    private DynamoDeadLetter letter(Map<String, AttributeValue> item) {
        return DeadLetterItems.letter(item, eventSerializer, serializer, clock);
    }

    private String headerPk() {
        return "q#" + processingGroup;
    }

    /** The partition of a sequence's letters; the group's length keeps ("a#b", "c") apart from ("a", "b#c"). */
    private String sequencePk(String sequence) {
        return "s#" + processingGroup.length() + "#" + processingGroup + "#" + sequence;
    }

    private Map<String, AttributeValue> headerKey(String sequence) {
        return Map.of(PK, s(headerPk()), SK, s(sequence));
    }

    private Map<String, AttributeValue> letterKey(String sequence, long index) {
        return Map.of(PK, s(sequencePk(sequence)), SK, s(LETTER_PREFIX + String.format("%019d", index)));
    }

    private Map<String, AttributeValue> guardItemKey(String sequence, String messageId) {
        return Map.of(PK, s(sequencePk(sequence)), SK, s(GUARD_PREFIX + messageId));
    }

    private static String guardKey(String sequence, String messageId) {
        return sequence + '\u0000' + messageId;
    }

    private static Map<String, AttributeValue> keyOf(TransactWriteItem write) {
        if (write.delete() != null) {
            return write.delete().key();
        }
        if (write.update() != null) {
            return write.update().key();
        }
        return Map.of(PK, write.put().item().get(PK), SK, write.put().item().get(SK));
    }

    /** The sequence identifier as stored: Dagy's sequencing policies return text (a run or aggregate id). */
    static String sequenceOf(Object sequenceIdentifier) {
        return sequenceIdentifier instanceof String text ? text : String.valueOf(sequenceIdentifier);
    }

    private static boolean failed(TransactionCanceledException cancelled, int index) {
        List<CancellationReason> reasons = cancelled.cancellationReasons();
        return index < reasons.size() && "ConditionalCheckFailed".equals(reasons.get(index).code());
    }

    private DynamoDeadLetter ours(DeadLetter<? extends EventMessage<?>> letter, String operation) {
        if (letter instanceof DynamoDeadLetter ours) {
            return ours;
        }
        throw new WrongDeadLetterTypeException("Invoke " + operation + " with a letter read from this queue, not a "
                + letter.getClass().getName());
    }

    private DeadLetterQueueOverflowException overflow(String sequence, DeadLetter<? extends EventMessage<?>> letter) {
        return new DeadLetterQueueOverflowException("Processor '" + processingGroup + "' cannot park event "
                + letter.message().getIdentifier() + " in sequence '" + sequence + "': the dead-letter queue holds "
                + "at most " + maxSequences + " sequences of at most " + maxSequenceSize + " letters");
    }

    private RuntimeException conflict(String sequence, String detail) {
        return new DynamoTransactionException("Sequence '" + sequence + "' of processor '" + processingGroup
                + "' changed concurrently (" + detail + "); the work is retried", null);
    }

    /** A letter's eviction raced with a letter parked behind it: the transaction wrote nothing. */
    private static final class EvictConflict extends RuntimeException {
        EvictConflict(String sequence) {
            super("sequence '" + sequence + "' changed while its letter was evicted", null, false, false);
        }
    }

    /** Builds a queue for one processing group; every setting but the limits and the claim is required. */
    public static final class Builder {
        private DynamoDbClient dynamoDb;
        private String table;
        private String processingGroup;
        private Serializer eventSerializer;
        private Serializer serializer;
        private int maxSequences = 1024;
        private int maxSequenceSize = 1024;
        private Duration claimDuration = Duration.ofSeconds(30);
        private int pageSize = 100;
        private Clock clock = Clock.systemUTC();
        private ClaimEpochs claimEpochs;

        private Builder() {
        }

        public Builder dynamoDb(DynamoDbClient dynamoDb) {
            this.dynamoDb = dynamoDb;
            return this;
        }

        public Builder table(String table) {
            this.table = table;
            return this;
        }

        public Builder processingGroup(String processingGroup) {
            this.processingGroup = processingGroup;
            return this;
        }

        /** Serializes the event's payload and metadata and the letter's diagnostics, as in the event store. */
        public Builder eventSerializer(Serializer eventSerializer) {
            this.eventSerializer = eventSerializer;
            return this;
        }

        /** Serializes the event's tracking token, as in the token store. */
        public Builder serializer(Serializer serializer) {
            this.serializer = serializer;
            return this;
        }

        public Builder maxSequences(int maxSequences) {
            this.maxSequences = maxSequences;
            return this;
        }

        public Builder maxSequenceSize(int maxSequenceSize) {
            this.maxSequenceSize = maxSequenceSize;
            return this;
        }

        /** How long a retry holds a sequence without progress before another node may take it over. */
        public Builder claimDuration(Duration claimDuration) {
            this.claimDuration = claimDuration;
            return this;
        }

        public Builder pageSize(int pageSize) {
            this.pageSize = pageSize;
            return this;
        }

        /**
         * The claims of the token store the group's processor uses: with them, the processor's transactions reuse
         * the headers they read while this node holds the same claims (see {@code parkedHeaders}); without, each
         * transaction reads them.
         */
        public Builder claimEpochs(ClaimEpochs claimEpochs) {
            this.claimEpochs = claimEpochs;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public DynamoSequencedDeadLetterQueue build() {
            if (dynamoDb == null || table == null || table.isBlank() || processingGroup == null
                    || processingGroup.isBlank() || eventSerializer == null || serializer == null || clock == null) {
                throw new AxonConfigurationException("A dead-letter queue needs a DynamoDB client, a table, a "
                        + "processing group, an event serializer, a serializer and a clock");
            }
            if (maxSequences < 1 || maxSequenceSize < 1 || pageSize < 1 || claimDuration == null
                    || claimDuration.isNegative() || claimDuration.isZero()) {
                throw new AxonConfigurationException("maxSequences, maxSequenceSize, pageSize and claimDuration must "
                        + "be positive");
            }
            return new DynamoSequencedDeadLetterQueue(this);
        }
    }

    @Override
    public String toString() {
        return "DynamoSequencedDeadLetterQueue{" + processingGroup + " in " + table + "}";
    }
}
