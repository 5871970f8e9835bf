package io.dagy.eventstore.tokens;

import io.dagy.eventstore.events.StoredTokens;
import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransaction.ItemKey;
import io.dagy.eventstore.tx.DynamoTransactionManager;
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

/**
 * Axon's token store on DynamoDB: one item per processor segment ({@code pk} = processor, {@code sk} = segment) with
 * the serialized token, its owner and when the owner last claimed it. A claim is a conditional update, so two nodes
 * never hold a segment at once; a claim not extended within {@code claimTimeout} may be taken over.
 *
 * <p>A segment always holds a position: tokens are stored and handed out as {@link StoredTokens#canonical} makes them
 * (no token is the tail; a merged token is the lower position of its halves). A pooled processor can only serve
 * segments at different positions from one stream if it knows each position.
 *
 * <p>Writes that return nothing (storing, releasing, extending, deleting, initializing a segment) join the
 * {@link DynamoTransaction} open on the thread, so a processor's token commits with its handlers' effects. Changes to
 * one segment within a transaction are folded into one write, as DynamoDB allows one action per item.
 */
public final class DynamoTokenStore implements TokenStore {

    private static final String TOKEN = "token";
    private static final String TOKEN_TYPE = "tokenType";
    private static final String OWNER = "owner";
    private static final String CLAIMED_AT = "claimedAt";
    private static final String CONFIG = "__config";
    private static final String CLAIMABLE = "attribute_exists(pk) AND (#owner = :me OR attribute_not_exists(#owner) "
            + "OR claimedAt < :expiry)";
    private static final String OWNED = "#owner = :me";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;
    private final String nodeId;
    private final Duration claimTimeout;
    private final Clock clock;

    public DynamoTokenStore(DynamoDbClient dynamoDb, String table, Serializer serializer, String nodeId,
                            Duration claimTimeout, Clock clock) {
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
                dynamoDb.transactWriteItems(b -> b.transactItems(chunk));
            }
        } catch (TransactionCanceledException exists) {
            throw new UnableToClaimTokenException("Could not initialize segments of processor '" + processorName
                    + "': some are already initialized", exists);
        }
    }

    @Override
    public boolean requiresExplicitSegmentInitialization() {
        return true;
    }

    @Override
    public void storeToken(TrackingToken token, String processorName, int segment) {
        change(processorName, segment, c -> c.store(serialize(token)), () -> immediateStore(token, processorName, segment));
    }

    @Override
    public TrackingToken fetchToken(String processorName, int segment) {
        long now = clock.millis();
        try {
            var attributes = dynamoDb.updateItem(b -> b.tableName(table).key(key(processorName, segment))
                    .updateExpression("SET #owner = :me, claimedAt = :now")
                    .conditionExpression(CLAIMABLE)
                    .expressionAttributeNames(Map.of("#owner", OWNER))
                    .expressionAttributeValues(Map.of(":me", s(nodeId), ":now", n(now), ":expiry", n(now - claimTimeout.toMillis())))
                    .returnValues(ReturnValue.ALL_NEW)).attributes();
            return deserialize(attributes);
        } catch (ConditionalCheckFailedException refused) {
            throw unableToClaim(processorName, segment, refused);
        }
    }

    @Override
    public TrackingToken fetchToken(String processorName, Segment segment) {
        int[] all = fetchSegments(processorName);
        Segment current = Arrays.stream(all).anyMatch(id -> id == segment.getSegmentId())
                ? Segment.computeSegment(segment.getSegmentId(), all) : null;
        if (current == null || current.getMask() != segment.getMask()) {
            throw new UnableToClaimTokenException("Segment " + segment.getSegmentId() + " of processor '" + processorName
                    + "' has been split or merged since it was offered");
        }
        return fetchToken(processorName, segment.getSegmentId());
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

    @Override
    public void extendClaim(String processorName, int segment) {
        change(processorName, segment, TokenChange::extend, () -> {
            try {
                dynamoDb.updateItem(b -> b.tableName(table).key(key(processorName, segment))
                        .updateExpression("SET claimedAt = :now").conditionExpression(OWNED)
                        .expressionAttributeNames(Map.of("#owner", OWNER))
                        .expressionAttributeValues(Map.of(":me", s(nodeId), ":now", n(clock.millis()))));
            } catch (ConditionalCheckFailedException lost) {
                throw unableToClaim(processorName, segment, lost);
            }
        });
    }

    @Override
    public void releaseClaim(String processorName, int segment) {
        change(processorName, segment, TokenChange::release, () -> {
            try {
                dynamoDb.updateItem(b -> b.tableName(table).key(key(processorName, segment))
                        .updateExpression("SET claimedAt = :now REMOVE #owner").conditionExpression(OWNED)
                        .expressionAttributeNames(Map.of("#owner", OWNER))
                        .expressionAttributeValues(Map.of(":me", s(nodeId), ":now", n(clock.millis()))));
            } catch (ConditionalCheckFailedException notOurs) {
                // releasing a claim we do not hold changes nothing, as the contract says
            }
        });
    }

    @Override
    public void initializeSegment(TrackingToken token, String processorName, int segment) {
        change(processorName, segment, c -> c.initialize(serialize(token)), () -> {
            try {
                dynamoDb.putItem(b -> b.tableName(table).item(tokenItem(processorName, segment, token))
                        .conditionExpression("attribute_not_exists(pk)"));
            } catch (ConditionalCheckFailedException exists) {
                throw new UnableToInitializeTokenException("Segment " + segment + " of processor '" + processorName
                        + "' already exists", exists);
            }
        });
    }

    @Override
    public void deleteToken(String processorName, int segment) {
        change(processorName, segment, TokenChange::delete, () -> {
            try {
                dynamoDb.deleteItem(b -> b.tableName(table).key(key(processorName, segment)).conditionExpression(OWNED)
                        .expressionAttributeNames(Map.of("#owner", OWNER))
                        .expressionAttributeValues(Map.of(":me", s(nodeId))));
            } catch (ConditionalCheckFailedException notOurs) {
                throw unableToClaim(processorName, segment, notOurs);
            }
        });
    }

    @Override
    public int[] fetchSegments(String processorName) {
        return segmentItems(processorName).stream().mapToInt(item -> Integer.parseInt(item.get("sk").n())).sorted().toArray();
    }

    @Override
    public List<Segment> fetchAvailableSegments(String processorName) {
        List<Map<String, AttributeValue>> items = segmentItems(processorName);
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
            dynamoDb.putItem(b -> b.tableName(table).item(Map.of("pk", s(CONFIG), "sk", n(0), "id",
                    s(UUID.randomUUID().toString()))).conditionExpression("attribute_not_exists(pk)"));
        } catch (ConditionalCheckFailedException alreadyThere) {
            // the identifier was created before: keep it
        }
        return Optional.of(dynamoDb.getItem(b -> b.tableName(table).key(key).consistentRead(true)).item().get("id").s());
    }

    // ---------------------------------------------------------------- transaction folding

    /**
     * Applies a change to a segment: folded into the open transaction if there is one, else written at once.
     */
    private void change(String processorName, int segment, java.util.function.Consumer<TokenChange> fold, Runnable immediately) {
        Optional<DynamoTransaction> transaction = DynamoTransactionManager.current();
        if (transaction.isEmpty()) {
            immediately.run();
            return;
        }
        ItemKey itemKey = new ItemKey(table, key(processorName, segment));
        Map<ItemKey, TokenChange> changes = transaction.get().resource(this, HashMap::new);
        TokenChange change = changes.computeIfAbsent(itemKey, k -> new TokenChange());
        fold.accept(change);
        transaction.get().writeLast(itemKey, render(change, processorName, segment),
                detail -> change.initialize ? new UnableToInitializeTokenException("Segment " + segment
                        + " of processor '" + processorName + "' already exists")
                        : new UnableToClaimTokenException("Segment " + segment + " of processor '" + processorName
                        + "' is no longer claimed by " + nodeId));
    }

    private TransactWriteItem render(TokenChange change, String processorName, int segment) {
        Map<String, AttributeValue> key = key(processorName, segment);
        long now = clock.millis();
        if (change.delete) {
            return TransactWriteItem.builder().delete(Delete.builder().tableName(table).key(key)
                    .conditionExpression(OWNED).expressionAttributeNames(Map.of("#owner", OWNER))
                    .expressionAttributeValues(Map.of(":me", s(nodeId))).build()).build();
        }
        if (change.initialize) {
            Map<String, AttributeValue> item = new HashMap<>(key);
            putToken(item, change.token);
            return TransactWriteItem.builder().put(Put.builder().tableName(table).item(item)
                    .conditionExpression("attribute_not_exists(pk)").build()).build();
        }
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":me", s(nodeId), ":now", n(now)));
        List<String> sets = new ArrayList<>(List.of("claimedAt = :now"));
        List<String> removes = new ArrayList<>();
        String condition = OWNED;
        if (change.tokenSet) {
            condition = CLAIMABLE;
            values.put(":expiry", n(now - claimTimeout.toMillis()));
            sets.add("#token = :token");
            sets.add("tokenType = :type");
            values.put(":token", AttributeValue.fromB(SdkBytes.fromByteArray(change.token.getData())));
            values.put(":type", s(change.token.getType().getName()));
        }
        if (change.release) {
            removes.add("#owner");
        } else {
            sets.add("#owner = :me");
        }
        String expression = "SET " + String.join(", ", sets) + (removes.isEmpty() ? "" : " REMOVE " + String.join(", ", removes));
        Map<String, String> names = new HashMap<>(Map.of("#owner", OWNER));
        if (change.tokenSet) {
            names.put("#token", TOKEN);
        }
        return TransactWriteItem.builder().update(Update.builder().tableName(table).key(key)
                .updateExpression(expression).conditionExpression(condition)
                .expressionAttributeNames(names).expressionAttributeValues(values).build()).build();
    }

    /** What one transaction does to one segment, folded. */
    private static final class TokenChange {
        private boolean initialize;
        private boolean tokenSet;
        private SerializedObject<byte[]> token;
        private boolean release;
        private boolean delete;

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
            this.release = false;
        }

        void release() {
            this.release = true;
        }

        void delete() {
            this.delete = true;
        }
    }

    // ---------------------------------------------------------------- helpers

    private void immediateStore(TrackingToken token, String processorName, int segment) {
        TokenChange change = new TokenChange();
        change.store(serialize(token));
        Update update = render(change, processorName, segment).update();
        try {
            dynamoDb.updateItem(b -> b.tableName(table).key(update.key()).updateExpression(update.updateExpression())
                    .conditionExpression(update.conditionExpression())
                    .expressionAttributeNames(update.expressionAttributeNames())
                    .expressionAttributeValues(update.expressionAttributeValues()));
        } catch (ConditionalCheckFailedException refused) {
            throw unableToClaim(processorName, segment, refused);
        }
    }

    private UnableToClaimTokenException unableToClaim(String processorName, int segment, Exception cause) {
        var item = dynamoDb.getItem(b -> b.tableName(table).key(key(processorName, segment)).consistentRead(true)).item();
        String why = item == null || item.isEmpty() ? "has not been initialized"
                : "is owned by '" + (item.containsKey(OWNER) ? item.get(OWNER).s() : "nobody") + "'";
        return new UnableToClaimTokenException("Unable to claim segment " + segment + " of processor '" + processorName
                + "' for node '" + nodeId + "': it " + why, cause);
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
