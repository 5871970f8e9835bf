package io.dagy.eventstore.tokens;

import io.dagy.eventstore.events.StoredTokens;
import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransaction.ItemKey;
import io.dagy.eventstore.tx.DynamoTransactionException;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.eventstore.tx.TransactionConflicts;
import org.axonframework.eventhandling.Segment;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.axonframework.eventhandling.tokenstore.UnableToInitializeTokenException;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedObject;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionCheck;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Axon's token store on DynamoDB: one item per processor segment ({@code pk} = processor, {@code sk} = segment) with
 * the serialized token, its owner, when the owner last claimed it, and the id of the claim. A claim is a conditional
 * update, so two nodes never take a segment at once; a claim not extended within {@code claimTimeout} may be taken
 * over.
 *
 * <p>Every claim ({@link #fetchToken}) writes a new random claim id, which this store remembers. Whatever a node writes
 * to a segment afterwards (storing, extending, releasing, deleting, and the effects committed with them) is
 * conditioned on that id still being there: so a node whose claim was taken over (it stalled past the timeout, or the
 * other node's clock runs ahead) can never commit again, even after the other node has released the segment. Expiry
 * only decides who may take a claim; it never decides whether a commit may land.
 *
 * <p>A segment always holds a position: tokens are stored and handed out as {@link StoredTokens#canonical} makes them
 * (no token is the tail; a merged token is the lower position of its halves). A pooled processor can only serve
 * segments at different positions from one stream if it knows each position.
 *
 * <p>Writes that return nothing (storing, releasing, deleting, initializing a segment) join the
 * {@link DynamoTransaction} open on the thread, so a processor's token commits with its handlers' effects. Changes to
 * one segment within a transaction are folded into one write, as DynamoDB allows one action per item.
 *
 * <p>Extensions are written per node, not per segment (decision 87): {@link #extendClaim} writes nothing while the
 * claim was written less than a quarter of the timeout ago, and otherwise extends, in one transaction, every claim of
 * this node that is due and whose processor asked for it within the timeout (a claim nobody asks for any more, as
 * after a failed release, still expires). An idle node with two dozen segments so extends them in one request every
 * few seconds instead of one each. A claim found taken in such a write is forgotten, and its own next extension or
 * store fails as before.
 *
 * <p>The segments offered to a processor's coordinator ({@link #fetchAvailableSegments}), and the tokens read for
 * metrics and balancing ({@link #storedTokens}), may be read from one scan of the table shared by all processors of
 * the node, reused for {@code offerReuse}: an offer is only a hint (the claim itself is conditional), so a stale one
 * costs at most that much delay in taking over a free segment.
 */
public final class DynamoTokenStore implements TokenStore {

    private static final String TOKEN = "token";
    private static final String TOKEN_TYPE = "tokenType";
    private static final String OWNER = "owner";
    private static final String CLAIMED_AT = "claimedAt";
    private static final String CLAIM = "claim";
    private static final String CONFIG = "__config";
    private static final String CLAIMABLE = "attribute_exists(pk) AND (#owner = :me OR attribute_not_exists(#owner) "
            + "OR claimedAt < :expiry)";
    private static final String OWNED = "#owner = :me";
    private static final String HELD = "#owner = :me AND #claim = :claim";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;
    private final String nodeId;
    private final Duration claimTimeout;
    private final Clock clock;
    /** The id of the claim this store last took on each segment it holds (forgotten when released or deleted). */
    private final Map<Claimed, String> claims = new ConcurrentHashMap<>();
    /** When each held claim was last written, and when its processor last asked to keep it (clock millis). */
    private final Map<Claimed, ClaimTimes> claimTimes = new ConcurrentHashMap<>();
    private final ClaimEpochs epochs = new ClaimEpochs();
    private final Duration offerReuse;
    private volatile TableReading offers;

    public DynamoTokenStore(DynamoDbClient dynamoDb, String table, Serializer serializer, String nodeId,
                            Duration claimTimeout, Clock clock) {
        this(dynamoDb, table, serializer, nodeId, claimTimeout, clock, Duration.ZERO);
    }

    /**
     * @param offerReuse how long one scan of the table may answer {@link #fetchAvailableSegments} for every
     *                   processor of this node; zero queries the processor's segments each time
     */
    public DynamoTokenStore(DynamoDbClient dynamoDb, String table, Serializer serializer, String nodeId,
                            Duration claimTimeout, Clock clock, Duration offerReuse) {
        this.offerReuse = Objects.requireNonNull(offerReuse);
        this.dynamoDb = Objects.requireNonNull(dynamoDb);
        this.table = Objects.requireNonNull(table);
        this.serializer = Objects.requireNonNull(serializer);
        this.nodeId = Objects.requireNonNull(nodeId);
        this.claimTimeout = Objects.requireNonNull(claimTimeout);
        this.clock = Objects.requireNonNull(clock);
    }

    public String nodeId() {
        return nodeId;
    }

    /** The claims this store has taken, per processor (see {@link ClaimEpochs}). */
    public ClaimEpochs claimEpochs() {
        return epochs;
    }

    @Override
    public void initializeTokenSegments(String processorName, int segmentCount) {
        initializeTokenSegments(processorName, segmentCount, null);
    }

    @Override
    public void initializeTokenSegments(String processorName, int segmentCount, TrackingToken initialToken) {
        List<TransactWriteItem> items = new ArrayList<>();
        for (int segment = 0; segment < segmentCount; segment++) {
            items.add(TransactWriteItem.builder().put(Put.builder().tableName(table)
                    .item(tokenItem(processorName, segment, initialToken))
                    .conditionExpression("attribute_not_exists(pk)").build()).build());
        }
        try {
            for (int from = 0; from < items.size(); from += DynamoTransaction.MAX_ITEMS) {
                List<TransactWriteItem> chunk = items.subList(from, Math.min(items.size(), from + DynamoTransaction.MAX_ITEMS));
                TransactionConflicts.retried(() -> dynamoDb.transactWriteItems(b -> b.transactItems(chunk)));
            }
        } catch (TransactionCanceledException cancelled) {
            if (TransactionConflicts.onlyConflicts(cancelled)) {
                throw new DynamoTransactionException("Could not initialize segments of processor '" + processorName
                        + "': the write kept conflicting with other transactions", cancelled);
            }
            throw new UnableToClaimTokenException("Could not initialize segments of processor '" + processorName
                    + "': some are already initialized", cancelled);
        }
    }

    @Override
    public boolean requiresExplicitSegmentInitialization() {
        return true;
    }

    @Override
    public void storeToken(TrackingToken token, String processorName, int segment) {
        change(processorName, segment, c -> c.store(serialize(token)));
    }

    @Override
    public TrackingToken fetchToken(String processorName, int segment) {
        long now = clock.millis();
        String claim = UUID.randomUUID().toString();
        Map<String, AttributeValue> attributes;
        try {
            attributes = TransactionConflicts.retried(() -> dynamoDb.updateItem(b -> b.tableName(table)
                    .key(key(processorName, segment))
                    .updateExpression("SET #owner = :me, claimedAt = :now, #claim = :claim")
                    .conditionExpression(CLAIMABLE)
                    .expressionAttributeNames(Map.of("#owner", OWNER, "#claim", CLAIM))
                    .expressionAttributeValues(Map.of(":me", s(nodeId), ":now", n(now), ":claim", s(claim),
                            ":expiry", n(now - claimTimeout.toMillis())))
                    .returnValues(ReturnValue.ALL_NEW))).attributes();
        } catch (ConditionalCheckFailedException refused) {
            throw unableToClaim(processorName, segment, refused);
        }
        Claimed claimed = new Claimed(processorName, segment);
        claims.put(claimed, claim);
        claimTimes.put(claimed, new ClaimTimes(now, now));
        epochs.claimed(processorName);
        return deserialize(attributes);
    }

    /**
     * Claims the segment, then checks that its mask is still the one it was offered with: a split or merge needs the
     * claim on the segment, so once we hold it none can happen unseen, and one that happened before shows in the
     * segments read after the claim. (Checking first and claiming after would let a split slip in between.)
     */
    @Override
    public TrackingToken fetchToken(String processorName, Segment segment) {
        TrackingToken token = fetchToken(processorName, segment.getSegmentId());
        int[] all = fetchSegments(processorName);
        Segment current = Arrays.stream(all).anyMatch(id -> id == segment.getSegmentId())
                ? Segment.computeSegment(segment.getSegmentId(), all) : null;
        if (current == null || current.getMask() != segment.getMask()) {
            TokenChange release = new TokenChange();
            release.release();
            applyNow(release, processorName, segment.getSegmentId());
            throw new UnableToClaimTokenException("Segment " + segment.getSegmentId() + " of processor '" + processorName
                    + "' has been split or merged since it was offered");
        }
        return token;
    }

    /**
     * The token stored for a segment, read without claiming it (for status pages, operators and tests); null if the
     * segment holds none.
     *
     * @throws UnableToClaimTokenException if the segment does not exist
     */
    public TrackingToken storedToken(String processorName, int segment) {
        var item = dynamoDb.getItem(b -> b.tableName(table).key(key(processorName, segment)).consistentRead(true)).item();
        if (item == null || item.isEmpty()) {
            throw new UnableToClaimTokenException("Segment " + segment + " of processor '" + processorName
                    + "' has not been initialized");
        }
        return deserialize(item);
    }

    /**
     * Keeps the claim: writes nothing while it was written less than a quarter of the timeout ago; otherwise extends
     * it, and every other claim of this node that is due and still asked for, in one write.
     *
     * @throws UnableToClaimTokenException if this node does not hold the claim (any more)
     */
    @Override
    public void extendClaim(String processorName, int segment) {
        Claimed claimed = new Claimed(processorName, segment);
        long now = clock.millis();
        ClaimTimes times = claimTimes.computeIfPresent(claimed, (k, t) -> t.askedAt(now));
        if (times == null || !claims.containsKey(claimed)) {
            // not claimed by this store (or found taken by a node-wide extension): the one write tells which
            change(processorName, segment, TokenChange::extend);
            return;
        }
        if (now - times.writtenAt() < extensionDue()) {
            return;
        }
        synchronized (claimTimes) {
            times = claimTimes.get(claimed);
            if (times != null && clock.millis() - times.writtenAt() < extensionDue()) {
                return; // another thread's extension wrote it meanwhile
            }
            extendDueClaims(claimed);
        }
    }

    /**
     * A quarter of the claim timeout: a claim written longer ago is extended when its processor next asks. A pooled
     * processor asks every 5 s (Axon's claim extension threshold), so with the default timeout of 10 s a claim is
     * written at the latest 7.5 s after the last write, well before it expires.
     */
    private long extensionDue() {
        return claimTimeout.toMillis() / 4;
    }

    /**
     * Extends {@code asking} and every other claim of this node that is due and that its processor asked to keep
     * within the timeout, in one transaction (at most {@link DynamoTransaction#MAX_ITEMS}; the rest wait for their
     * own next extension), or in one update when it is alone. A transaction refused (a claim was taken) is sent
     * again claim by claim, so that claim is found and forgotten and the others are still extended.
     *
     * @throws UnableToClaimTokenException if {@code asking} was taken
     */
    private void extendDueClaims(Claimed asking) {
        long now = clock.millis();
        List<Claimed> due = new ArrayList<>(List.of(asking));
        claimTimes.forEach((claimed, times) -> {
            if (due.size() < DynamoTransaction.MAX_ITEMS && !claimed.equals(asking) && claims.containsKey(claimed)
                    && now - times.writtenAt() >= extensionDue() && now - times.askedAt() < claimTimeout.toMillis()) {
                due.add(claimed);
            }
        });
        if (due.size() > 1) {
            List<TransactWriteItem> items = due.stream().map(claimed -> render(extension(),
                    claimed.processorName(), claimed.segment()).item()).toList();
            try {
                TransactionConflicts.retried(() -> dynamoDb.transactWriteItems(b -> b.transactItems(items)));
                due.forEach(claimed -> written(claimed, now, false));
                return;
            } catch (TransactionCanceledException refused) {
                // a claim was taken (or the conflicts did not stop): find out which, one by one
            }
        }
        UnableToClaimTokenException askingLost = null;
        for (Claimed claimed : due) {
            ClaimTimes before = claimTimes.get(claimed);
            try {
                applyNow(extension(), claimed.processorName(), claimed.segment());
                if (before != null && !claimed.equals(asking)) {
                    // written on the node's behalf: its processor did not ask
                    claimTimes.computeIfPresent(claimed, (k, times) -> new ClaimTimes(times.writtenAt(), before.askedAt()));
                }
            } catch (UnableToClaimTokenException lost) {
                String claim = claims.get(claimed);
                if (claim != null) {
                    claims.remove(claimed, claim);
                }
                claimTimes.remove(claimed);
                if (claimed.equals(asking)) {
                    askingLost = lost;
                }
            }
        }
        if (askingLost != null) {
            throw askingLost;
        }
    }

    private static TokenChange extension() {
        TokenChange change = new TokenChange();
        change.extend();
        return change;
    }

    /** A claim was written at {@code at}; {@code asked}: by its processor's own doing (a store, an extension). */
    private void written(Claimed claimed, long at, boolean asked) {
        claimTimes.compute(claimed, (k, times) -> new ClaimTimes(at, asked || times == null ? at : times.askedAt()));
    }

    /** Releases the claim; a claim that another node has taken meanwhile stays untouched, as the contract says. */
    @Override
    public void releaseClaim(String processorName, int segment) {
        change(processorName, segment, TokenChange::release);
    }

    @Override
    public void initializeSegment(TrackingToken token, String processorName, int segment) {
        change(processorName, segment, c -> c.initialize(serialize(token)));
        // A split initializes the new half from the token of the segment it was split from: that token is only right
        // while this node still holds the claim on that segment, so the transaction checks the claim too.
        if (segment > 0) {
            int splitFrom = segment - Integer.highestOneBit(segment);
            if (claims.containsKey(new Claimed(processorName, splitFrom))) {
                DynamoTransactionManager.current().ifPresent(transaction -> fold(transaction, processorName, splitFrom,
                        TokenChange::guard));
            }
        }
    }

    @Override
    public void deleteToken(String processorName, int segment) {
        change(processorName, segment, TokenChange::delete);
    }

    @Override
    public int[] fetchSegments(String processorName) {
        return segmentItems(processorName).stream().mapToInt(item -> Integer.parseInt(item.get("sk").n())).sorted().toArray();
    }

    @Override
    public List<Segment> fetchAvailableSegments(String processorName) {
        List<Map<String, AttributeValue>> items = sharedItems(processorName);
        int[] all = items.stream().mapToInt(item -> Integer.parseInt(item.get("sk").n())).sorted().toArray();
        long expiry = clock.millis() - claimTimeout.toMillis();
        return items.stream()
                .filter(item -> !item.containsKey(OWNER) || nodeId.equals(item.get(OWNER).s())
                        || Long.parseLong(item.get(CLAIMED_AT).n()) < expiry)
                .map(item -> Segment.computeSegment(Integer.parseInt(item.get("sk").n()), all))
                .toList();
    }

    @Override
    public Optional<String> retrieveStorageIdentifier() {
        Map<String, AttributeValue> key = Map.of("pk", s(CONFIG), "sk", n(0));
        try {
            TransactionConflicts.retried(() -> dynamoDb.putItem(b -> b.tableName(table).item(Map.of("pk", s(CONFIG),
                    "sk", n(0), "id", s(UUID.randomUUID().toString()))).conditionExpression("attribute_not_exists(pk)")));
        } catch (ConditionalCheckFailedException alreadyThere) {
            // the identifier was created before: keep it
        }
        return Optional.of(dynamoDb.getItem(b -> b.tableName(table).key(key).consistentRead(true)).item().get("id").s());
    }

    // ---------------------------------------------------------------- changes, folded per transaction

    /**
     * Applies a change to a segment: folded into the open transaction if there is one, else written at once.
     */
    private void change(String processorName, int segment, Consumer<TokenChange> fold) {
        Optional<DynamoTransaction> transaction = DynamoTransactionManager.current();
        if (transaction.isPresent()) {
            fold(transaction.get(), processorName, segment, fold);
        } else {
            TokenChange change = new TokenChange();
            fold.accept(change);
            applyNow(change, processorName, segment);
        }
    }

    private void fold(DynamoTransaction transaction, String processorName, int segment, Consumer<TokenChange> fold) {
        ItemKey itemKey = new ItemKey(table, key(processorName, segment));
        Map<ItemKey, TokenChange> changes = transaction.resource(this, HashMap::new);
        TokenChange change = changes.computeIfAbsent(itemKey, k -> {
            TokenChange created = new TokenChange();
            transaction.afterCommit(() -> settled(created, processorName, segment));
            return created;
        });
        fold.accept(change);
        Rendered rendered = render(change, processorName, segment);
        if (rendered.optional()) {
            transaction.writeLastUnlessRefused(itemKey, rendered.item());
        } else {
            transaction.writeLast(itemKey, rendered.item(), rendered.guard(),
                    detail -> change.initialize ? new UnableToInitializeTokenException("Segment " + segment
                            + " of processor '" + processorName + "' already exists")
                            : new UnableToClaimTokenException("Segment " + segment + " of processor '" + processorName
                            + "' is no longer claimed by " + nodeId + " (another node has claimed it since)"));
        }
    }

    /** Writes a change on its own, outside any transaction. */
    private void applyNow(TokenChange change, String processorName, int segment) {
        TransactWriteItem item = render(change, processorName, segment).item();
        try {
            TransactionConflicts.retried(() -> {
                if (item.put() != null) {
                    Put put = item.put();
                    dynamoDb.putItem(b -> b.tableName(put.tableName()).item(put.item())
                            .conditionExpression(put.conditionExpression()));
                } else if (item.delete() != null) {
                    Delete delete = item.delete();
                    dynamoDb.deleteItem(b -> b.tableName(delete.tableName()).key(delete.key())
                            .conditionExpression(delete.conditionExpression())
                            .expressionAttributeNames(delete.expressionAttributeNames())
                            .expressionAttributeValues(delete.expressionAttributeValues()));
                } else if (item.update() != null) {
                    Update update = item.update();
                    dynamoDb.updateItem(b -> b.tableName(update.tableName()).key(update.key())
                            .updateExpression(update.updateExpression())
                            .conditionExpression(update.conditionExpression())
                            .expressionAttributeNames(update.expressionAttributeNames())
                            .expressionAttributeValues(update.expressionAttributeValues()));
                }
            });
        } catch (ConditionalCheckFailedException refused) {
            if (change.initialize) {
                throw new UnableToInitializeTokenException("Segment " + segment + " of processor '" + processorName
                        + "' already exists", refused);
            }
            if (!change.releaseOnly()) {
                throw unableToClaim(processorName, segment, refused);
            }
            // releasing a claim we no longer hold changes nothing, as the contract says
        }
        settled(change, processorName, segment);
    }

    /** After a change was written (or a release found the claim gone): what this store remembers of the claim. */
    private void settled(TokenChange change, String processorName, int segment) {
        Claimed claimed = new Claimed(processorName, segment);
        if (change.delete || change.release) {
            if (change.claim != null && claims.remove(claimed, change.claim)) {
                claimTimes.remove(claimed);
            }
        } else {
            if (change.freshClaim != null) {
                claims.put(claimed, change.freshClaim);
                epochs.claimed(processorName);
            }
            if (claims.containsKey(claimed) && !change.initialize && !change.guardOnly()) {
                written(claimed, clock.millis(), true); // every other change sets claimedAt
            }
        }
    }

    /**
     * The one write that a folded change makes. Conditions: a claim this store took is checked by its id
     * ({@code HELD}); a change to a segment this store never claimed needs the node to own it ({@code OWNED}), except a
     * store, which may claim a segment that is free or expired on its way, as Axon's JDBC store does.
     */
    private Rendered render(TokenChange change, String processorName, int segment) {
        Map<String, AttributeValue> key = key(processorName, segment);
        if (!change.rendered) {
            change.claim = claims.get(new Claimed(processorName, segment));
            change.rendered = true;
        }
        long now = clock.millis();
        Map<String, String> names = new HashMap<>(Map.of("#owner", OWNER));
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":me", s(nodeId)));
        String condition;
        if (change.claim != null) {
            condition = HELD;
            names.put("#claim", CLAIM);
            values.put(":claim", s(change.claim));
        } else {
            condition = OWNED;
        }
        if (change.initialize) {
            Map<String, AttributeValue> item = new HashMap<>(key);
            putToken(item, change.token);
            return new Rendered(TransactWriteItem.builder().put(Put.builder().tableName(table).item(item)
                    .conditionExpression("attribute_not_exists(pk)").build()).build(), null, false);
        }
        ConditionCheck guard = ConditionCheck.builder().tableName(table).key(key).conditionExpression(condition)
                .expressionAttributeNames(Map.copyOf(names)).expressionAttributeValues(Map.copyOf(values)).build();
        if (change.delete) {
            return new Rendered(TransactWriteItem.builder().delete(Delete.builder().tableName(table).key(key)
                    .conditionExpression(condition).expressionAttributeNames(names)
                    .expressionAttributeValues(values).build()).build(), guard, false);
        }
        if (change.guardOnly()) {
            return new Rendered(TransactWriteItem.builder().conditionCheck(guard).build(), null, false);
        }
        List<String> sets = new ArrayList<>(List.of("claimedAt = :now"));
        List<String> removes = new ArrayList<>();
        values.put(":now", n(now));
        if (change.tokenSet) {
            if (change.claim == null) {
                // storing into a segment this store has not claimed: claim it on the way if it is free or expired
                condition = CLAIMABLE;
                values.put(":expiry", n(now - claimTimeout.toMillis()));
                guard = guard.toBuilder().conditionExpression(CLAIMABLE)
                        .expressionAttributeValues(Map.of(":me", s(nodeId), ":expiry", values.get(":expiry"))).build();
                if (!change.release) {
                    change.freshClaim = change.freshClaim == null ? UUID.randomUUID().toString() : change.freshClaim;
                    names.put("#claim", CLAIM);
                    values.put(":fresh", s(change.freshClaim));
                    sets.add("#claim = :fresh");
                }
            }
            names.put("#token", TOKEN);
            if (change.token == null) {
                removes.add("#token");
                removes.add("tokenType");
            } else {
                sets.add("#token = :token");
                sets.add("tokenType = :type");
                values.put(":token", AttributeValue.fromB(SdkBytes.fromByteArray(change.token.getData())));
                values.put(":type", s(change.token.getType().getName()));
            }
        }
        if (change.release) {
            removes.add("#owner");
            names.put("#claim", CLAIM);
            removes.add("#claim");
        } else {
            sets.add("#owner = :me");
        }
        String expression = "SET " + String.join(", ", sets) + (removes.isEmpty() ? "" : " REMOVE " + String.join(", ", removes));
        TransactWriteItem item = TransactWriteItem.builder().update(Update.builder().tableName(table).key(key)
                .updateExpression(expression).conditionExpression(condition)
                .expressionAttributeNames(names).expressionAttributeValues(values).build()).build();
        return new Rendered(item, guard, change.releaseOnly() && !change.guarded);
    }

    /** A rendered change: the write, the check effects committed in other parts carry, whether it may be dropped. */
    private record Rendered(TransactWriteItem item, ConditionCheck guard, boolean optional) {
    }

    /** A segment of a processor. */
    private record Claimed(String processorName, int segment) {
    }

    /** When a held claim was last written, and when its processor last asked to keep it (clock millis). */
    private record ClaimTimes(long writtenAt, long askedAt) {
        ClaimTimes askedAt(long now) {
            return new ClaimTimes(writtenAt, now);
        }
    }

    /** What one transaction does to one segment, folded. */
    private static final class TokenChange {
        private boolean initialize;
        private boolean tokenSet;
        private SerializedObject<byte[]> token;
        private boolean extend;
        private boolean release;
        private boolean delete;
        /** Something else in the transaction (a split) is only right while the claim holds. */
        private boolean guarded;
        /** The claim the change is conditioned on (null: none known), fixed when the change is first rendered. */
        private String claim;
        private boolean rendered;
        /** A claim this change takes (a store into a segment this store had not claimed). */
        private String freshClaim;

        void store(SerializedObject<byte[]> token) {
            this.tokenSet = true;
            this.token = token;
            this.release = false;
        }

        void initialize(SerializedObject<byte[]> token) {
            this.initialize = true;
            this.token = token;
        }

        void extend() {
            this.extend = true;
            this.release = false;
        }

        void release() {
            this.release = true;
        }

        void delete() {
            this.delete = true;
        }

        void guard() {
            this.guarded = true;
        }

        boolean releaseOnly() {
            return release && !tokenSet && !delete && !initialize;
        }

        boolean guardOnly() {
            return guarded && !release && !extend && !tokenSet && !delete && !initialize;
        }
    }

    // ---------------------------------------------------------------- helpers

    private UnableToClaimTokenException unableToClaim(String processorName, int segment, Exception cause) {
        var item = dynamoDb.getItem(b -> b.tableName(table).key(key(processorName, segment)).consistentRead(true)).item();
        String why = item == null || item.isEmpty() ? "has not been initialized"
                : "is owned by '" + (item.containsKey(OWNER) ? item.get(OWNER).s() : "nobody") + "'";
        return new UnableToClaimTokenException("Unable to claim segment " + segment + " of processor '" + processorName
                + "' for node '" + nodeId + "': it " + why, cause);
    }

    /**
     * The token stored in each segment of a processor, by segment, as the node's shared scan found them (at most
     * {@code offerReuse} old; for status, metrics and balancing, which need no fresher view).
     */
    public Map<Integer, TrackingToken> storedTokens(String processorName) {
        Map<Integer, TrackingToken> tokens = new java.util.TreeMap<>();
        sharedItems(processorName).forEach(item -> tokens.put(Integer.parseInt(item.get("sk").n()), deserialize(item)));
        return tokens;
    }

    /**
     * The processor's segment items from the node's last scan of the table while it is younger than
     * {@code offerReuse}, else from a new scan; a processor the scan did not find (initialized since) is queried.
     */
    private List<Map<String, AttributeValue>> sharedItems(String processorName) {
        if (offerReuse.isZero()) {
            return segmentItems(processorName);
        }
        TableReading reading = offers;
        if (reading == null || clock.millis() - reading.readAt() >= offerReuse.toMillis()) {
            synchronized (this) {
                reading = offers;
                if (reading == null || clock.millis() - reading.readAt() >= offerReuse.toMillis()) {
                    long readAt = clock.millis();
                    Map<String, List<Map<String, AttributeValue>>> byProcessor = new HashMap<>();
                    dynamoDb.scanPaginator(b -> b.tableName(table).consistentRead(true)).items()
                            .forEach(item -> byProcessor.computeIfAbsent(item.get("pk").s(), k -> new ArrayList<>())
                                    .add(item));
                    reading = new TableReading(byProcessor, readAt);
                    offers = reading;
                }
            }
        }
        List<Map<String, AttributeValue>> items = reading.byProcessor().get(processorName);
        return items == null ? segmentItems(processorName) : items;
    }

    /** One scan of the token table, by processor. */
    private record TableReading(Map<String, List<Map<String, AttributeValue>>> byProcessor, long readAt) {
    }

    private List<Map<String, AttributeValue>> segmentItems(String processorName) {
        List<Map<String, AttributeValue>> items = new ArrayList<>();
        dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s(processorName)))).items().forEach(items::add);
        return items;
    }

    private Map<String, AttributeValue> tokenItem(String processorName, int segment, TrackingToken token) {
        Map<String, AttributeValue> item = new HashMap<>(key(processorName, segment));
        putToken(item, serialize(token));
        return item;
    }

    private static void putToken(Map<String, AttributeValue> item, SerializedObject<byte[]> token) {
        item.put(TOKEN, AttributeValue.fromB(SdkBytes.fromByteArray(token.getData())));
        item.put(TOKEN_TYPE, s(token.getType().getName()));
    }

    /** Stores the position a token stands for ({@link StoredTokens}): never a stream's own token, never none. */
    private SerializedObject<byte[]> serialize(TrackingToken token) {
        return serializer.serialize(StoredTokens.canonical(token), byte[].class);
    }

    private TrackingToken deserialize(Map<String, AttributeValue> item) {
        if (!item.containsKey(TOKEN)) {
            return StoredTokens.canonical(null); // stored before segments always held a position
        }
        return StoredTokens.canonical(serializer.deserialize(new SimpleSerializedObject<>(
                item.get(TOKEN).b().asByteArray(), byte[].class, item.get(TOKEN_TYPE).s(), null)));
    }

    private static Map<String, AttributeValue> key(String processorName, int segment) {
        return Map.of("pk", s(processorName), "sk", n(segment));
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private static AttributeValue n(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }
}
