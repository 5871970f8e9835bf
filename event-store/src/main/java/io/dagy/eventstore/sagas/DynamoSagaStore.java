package io.dagy.eventstore.sagas;

import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransaction.ItemKey;
import io.dagy.eventstore.tx.DynamoTransactionException;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.eventstore.tx.OwnedItems;
import io.dagy.eventstore.tx.TransactionConflicts;
import org.axonframework.modelling.saga.AssociationValue;
import org.axonframework.modelling.saga.AssociationValues;
import org.axonframework.modelling.saga.repository.SagaStore;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Axon's saga store on DynamoDB. A saga is one item ({@code pk = saga#<id>}) holding its serialized state, its
 * associations and a version; each association is also an item ({@code pk = assoc#<type>#<key>#<value>},
 * {@code sk = <sagaId>}) so finding the sagas of an event is one strongly consistent query: the event right after a
 * saga's start finds it.
 *
 * <p>An update writes only if the version is still the one this node loaded, so concurrent updates of one saga from
 * two nodes are detected; the loser's unit of work fails and its processor retries it. All writes of one unit of work
 * join the thread's {@link DynamoTransaction}, so saga state commits together with the processor's token.
 */
public final class DynamoSagaStore implements SagaStore<Object> {

    private static final Logger log = LoggerFactory.getLogger(DynamoSagaStore.class);
    private static final String STATE = "state";
    private static final String TYPE = "type";
    private static final String DATA = "data";
    private static final String DATA_TYPE = "dataType";
    private static final String DATA_REVISION = "dataRevision";
    private static final String VERSION = "version";
    private static final String ASSOCIATIONS = "assoc";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;
    /** The version each saga had when this node last loaded it; only the loader updates it in its unit of work. */
    private final Map<String, Long> loadedVersions = new ConcurrentHashMap<>();
    /** The saga types keyed by an association ({@link #keyBy}). */
    private final Map<Class<?>, Keyed> keyed = new ConcurrentHashMap<>();
    private final Map<Class<?>, OwnedItems> remembered = new ConcurrentHashMap<>();

    public DynamoSagaStore(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this.dynamoDb = Objects.requireNonNull(dynamoDb);
        this.table = Objects.requireNonNull(table);
        this.serializer = Objects.requireNonNull(serializer);
    }

    /**
     * Keys the sagas of {@code sagaType} by their {@code associationKey}: the saga of an association value has the
     * identifier {@link #keyedId} derives from it (its manager must create it so), and finding it asks DynamoDB
     * nothing; loading it is the one read. Sagas of the type stored before with other identifiers (by an earlier
     * version) are looked up once, on the first find, and found as before until they end.
     */
    public void keyBy(Class<?> sagaType, String associationKey) {
        keyed.put(sagaType, new Keyed(associationKey));
    }

    /** The identifier of the keyed saga of {@code sagaType} for an association value. */
    public static String keyedId(Class<?> sagaType, AssociationValue associationValue) {
        return sagaType.getSimpleName() + ":" + associationValue.getValue();
    }

    /** A keyed saga type: its association key, and its sagas stored under other identifiers, by association value. */
    private static final class Keyed {
        final String associationKey;
        volatile Map<String, Set<String>> earlier;

        Keyed(String associationKey) {
            this.associationKey = associationKey;
        }
    }

    @Override
    public Set<String> findSagas(Class<?> sagaType, AssociationValue associationValue) {
        Keyed keyedType = keyed.get(sagaType);
        if (keyedType != null && keyedType.associationKey.equals(associationValue.getKey())) {
            Set<String> ids = new HashSet<>(earlierSagas(sagaType, keyedType).getOrDefault(associationValue.getValue(),
                    Set.of()));
            ids.add(keyedId(sagaType, associationValue));
            return ids;
        }
        Set<String> ids = new HashSet<>();
        dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true)
                        .keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", s(associationKey(sagaType, associationValue)))))
                .items().forEach(item -> ids.add(item.get("sk").s()));
        return ids;
    }

    /**
     * The sagas of a keyed type whose identifiers are not derived from their association: read once (a scan of the
     * type's association items; the table holds only sagas that have not ended), then forgotten as they end.
     */
    private Map<String, Set<String>> earlierSagas(Class<?> sagaType, Keyed keyedType) {
        Map<String, Set<String>> earlier = keyedType.earlier;
        if (earlier != null) {
            return earlier;
        }
        synchronized (keyedType) {
            if (keyedType.earlier == null) {
                String prefix = "assoc#" + sagaType.getName() + "#" + keyedType.associationKey + "#";
                Map<String, Set<String>> found = new ConcurrentHashMap<>();
                dynamoDb.scanPaginator(b -> b.tableName(table).consistentRead(true).projectionExpression("pk, sk")
                                .filterExpression("begins_with(pk, :prefix)")
                                .expressionAttributeValues(Map.of(":prefix", s(prefix))))
                        .items().forEach(item -> {
                            String value = item.get("pk").s().substring(prefix.length());
                            String id = item.get("sk").s();
                            if (!id.equals(keyedId(sagaType, new AssociationValue(keyedType.associationKey, value)))) {
                                found.computeIfAbsent(value, k -> ConcurrentHashMap.newKeySet()).add(id);
                            }
                        });
                if (!found.isEmpty()) {
                    log.info("{} sagas of {} have identifiers of an earlier version; they are found by their "
                            + "associations until they end", found.values().stream().mapToInt(Set::size).sum(),
                            sagaType.getSimpleName());
                }
                keyedType.earlier = found;
            }
            return keyedType.earlier;
        }
    }

    /**
     * Remembers the sagas of {@code sagaType} in {@code owned} (decision 88): a saga is loaded from the table once, not
     * for every event, while this node's claims on the saga's processor stand. Only for a type whose sagas are each
     * handled by one segment (the task saga, decision 50). A saga changed elsewhere meanwhile (a deadline fired on
     * another node) fails the version condition of the next update; the unit of work is retried and reads the table.
     */
    public void remember(Class<?> sagaType, OwnedItems owned) {
        remembered.put(sagaType, owned);
    }

    /** The saga whose load on this thread presumes it absent ({@link #presumingNew}). */
    private final ThreadLocal<String> presumedNew = new ThreadLocal<>();

    /**
     * Handles an event that starts the saga {@code sagaIdentifier} when it is the saga's first (a task run's first
     * dispatch, decision 93): its load answers "none" without a read ({@link OwnedItems#readNew}), for a type
     * remembered here. The insert's condition that the saga does not exist is the fence: should it exist (the event
     * handled again after a commit of which some parts landed), the transaction is refused and its retry reads.
     */
    public <X extends Exception> void presumingNew(String sagaIdentifier, Handling<X> handling) throws X {
        presumedNew.set(sagaIdentifier);
        try {
            handling.run();
        } finally {
            presumedNew.remove();
        }
    }

    /** Handling that may throw. */
    @FunctionalInterface
    public interface Handling<X extends Exception> {
        void run() throws X;
    }

    private OwnedItems owned(Class<?> sagaType) {
        return remembered.getOrDefault(sagaType, OwnedItems.NONE);
    }

    @Override
    public <S> Entry<S> loadSaga(Class<S> sagaType, String sagaIdentifier) {
        Map<String, AttributeValue> key = sagaKey(sagaIdentifier);
        ItemKey itemKey = new ItemKey(table, key);
        OwnedItems owned = owned(sagaType);
        java.util.function.Supplier<Optional<Map<String, AttributeValue>>> fromTable = () -> Optional.ofNullable(
                dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(key)).item())
                .filter(found -> !found.isEmpty());
        Map<String, AttributeValue> item = (sagaIdentifier.equals(presumedNew.get())
                ? owned.readNew(itemKey, fromTable) : owned.read(itemKey, fromTable)).orElse(null);
        if (item == null) {
            return null;
        }
        loadedVersions.put(sagaIdentifier, Long.parseLong(item.get(VERSION).n()));
        S saga = serializer.deserialize(new SimpleSerializedObject<>(item.get(DATA).b().asByteArray(), byte[].class,
                item.get(DATA_TYPE).s(), item.containsKey(DATA_REVISION) ? item.get(DATA_REVISION).s() : null));
        Set<AssociationValue> associations = new HashSet<>();
        if (item.containsKey(ASSOCIATIONS)) {
            item.get(ASSOCIATIONS).ss().forEach(encoded -> associations.add(decode(encoded)));
        }
        return new SagaEntry<>(saga, associations);
    }

    @Override
    public void insertSaga(Class<?> sagaType, String sagaIdentifier, Object saga, Set<AssociationValue> associationValues) {
        List<Write> writes = new ArrayList<>();
        writes.add(putState(sagaType, sagaIdentifier, saga, associationValues, 1, "attribute_not_exists(pk)", null));
        associationValues.forEach(a -> writes.add(putAssociation(sagaType, sagaIdentifier, a)));
        commit(sagaType, sagaIdentifier, writes);
    }

    @Override
    public void updateSaga(Class<?> sagaType, String sagaIdentifier, Object saga, AssociationValues associationValues) {
        Long loaded = loadedVersions.remove(sagaIdentifier);
        List<Write> writes = new ArrayList<>();
        if (loaded == null) {
            log.warn("Saga {} updated without being loaded by this node; its version is not checked", sagaIdentifier);
            writes.add(putState(sagaType, sagaIdentifier, saga, associationValues.asSet(), 1, "attribute_exists(pk)", null));
        } else {
            writes.add(putState(sagaType, sagaIdentifier, saga, associationValues.asSet(), loaded + 1,
                    "version = :loaded", loaded));
        }
        associationValues.addedAssociations().forEach(a -> writes.add(putAssociation(sagaType, sagaIdentifier, a)));
        associationValues.removedAssociations().forEach(a -> writes.add(deleteAssociation(sagaType, sagaIdentifier, a)));
        commit(sagaType, sagaIdentifier, writes);
    }

    @Override
    public void deleteSaga(Class<?> sagaType, String sagaIdentifier, Set<AssociationValue> associationValues) {
        Long loaded = loadedVersions.remove(sagaIdentifier);
        List<Write> writes = new ArrayList<>();
        Delete.Builder delete = Delete.builder().tableName(table).key(sagaKey(sagaIdentifier));
        if (loaded != null) {
            delete.conditionExpression("version = :loaded").expressionAttributeValues(Map.of(":loaded", n(loaded)));
        }
        writes.add(new Write(new ItemKey(table, sagaKey(sagaIdentifier)), TransactWriteItem.builder().delete(delete.build()).build()));
        associationValues.forEach(a -> writes.add(deleteAssociation(sagaType, sagaIdentifier, a)));
        commit(sagaType, sagaIdentifier, writes);
        Keyed keyedType = keyed.get(sagaType);
        if (keyedType != null && keyedType.earlier != null) {
            Runnable forget = () -> associationValues.forEach(a -> keyedType.earlier.computeIfPresent(a.getValue(),
                    (value, ids) -> ids.remove(sagaIdentifier) && ids.isEmpty() ? null : ids));
            DynamoTransactionManager.current().ifPresentOrElse(transaction -> transaction.afterCommit(forget), forget);
        }
    }

    /** Joins the open transaction, or commits the writes on their own in one transaction. */
    private void commit(Class<?> sagaType, String sagaIdentifier, List<Write> writes) {
        var transaction = DynamoTransactionManager.current();
        OwnedItems owned = owned(sagaType);
        Write state = writes.get(0);
        if (transaction.isPresent()) {
            // one group: should the transaction be split, the saga's state and associations stay in one part
            writes.forEach(w -> transaction.get().write(w.key(), w.item(), group(sagaIdentifier),
                    detail -> conflict(sagaIdentifier, null)));
            rememberState(owned, transaction.get(), state);
            return;
        }
        owned.forget(state.key());
        if (writes.size() > DynamoTransaction.MAX_ITEMS) {
            throw new IllegalStateException("saga " + sagaIdentifier + " changes " + writes.size()
                    + " items at once; a DynamoDB transaction holds " + DynamoTransaction.MAX_ITEMS);
        }
        try {
            TransactionConflicts.retried(() ->
                    dynamoDb.transactWriteItems(b -> b.transactItems(writes.stream().map(Write::item).toList())));
        } catch (TransactionCanceledException cancelled) {
            throw conflict(sagaIdentifier, cancelled);
        }
        rememberState(owned, null, state);
    }

    /** The saga's state as {@code state} leaves it, remembered once written. */
    private static void rememberState(OwnedItems owned, DynamoTransaction transaction, Write state) {
        if (state.item().put() != null) {
            owned.written(transaction, state.key(), state.item().put().item());
        } else {
            owned.deleted(transaction, state.key());
        }
    }

    /** The group of a saga's writes in a transaction, shared with the deadlines scheduled in its scope. */
    public static String group(String sagaIdentifier) {
        return "saga#" + sagaIdentifier;
    }

    private static RuntimeException conflict(String sagaIdentifier, TransactionCanceledException cause) {
        if (cause != null && TransactionConflicts.onlyConflicts(cause)) {
            return new DynamoTransactionException("saga " + sagaIdentifier + " kept conflicting with other "
                    + "transactions; the unit of work is retried", cause);
        }
        return new DynamoTransactionException("saga " + sagaIdentifier
                + " was changed by another node since it was loaded (or already exists); the unit of work is retried",
                cause);
    }

    private Write putState(Class<?> sagaType, String sagaIdentifier, Object saga, Set<AssociationValue> associations,
                           long version, String condition, Long loaded) {
        SerializedObject<byte[]> data = serializer.serialize(saga, byte[].class);
        Map<String, AttributeValue> item = new HashMap<>(sagaKey(sagaIdentifier));
        item.put(TYPE, s(sagaType.getName()));
        item.put(DATA, AttributeValue.fromB(SdkBytes.fromByteArray(data.getData())));
        item.put(DATA_TYPE, s(data.getType().getName()));
        if (data.getType().getRevision() != null) {
            item.put(DATA_REVISION, s(data.getType().getRevision()));
        }
        item.put(VERSION, n(version));
        if (!associations.isEmpty()) {
            item.put(ASSOCIATIONS, AttributeValue.fromSs(associations.stream().map(DynamoSagaStore::encode).toList()));
        }
        Put.Builder put = Put.builder().tableName(table).item(item).conditionExpression(condition);
        if (loaded != null) {
            put.expressionAttributeValues(Map.of(":loaded", n(loaded)));
        }
        return new Write(new ItemKey(table, sagaKey(sagaIdentifier)), TransactWriteItem.builder().put(put.build()).build());
    }

    private Write putAssociation(Class<?> sagaType, String sagaIdentifier, AssociationValue association) {
        Map<String, AttributeValue> key = associationItemKey(sagaType, sagaIdentifier, association);
        return new Write(new ItemKey(table, key),
                TransactWriteItem.builder().put(Put.builder().tableName(table).item(key).build()).build());
    }

    private Write deleteAssociation(Class<?> sagaType, String sagaIdentifier, AssociationValue association) {
        Map<String, AttributeValue> key = associationItemKey(sagaType, sagaIdentifier, association);
        return new Write(new ItemKey(table, key),
                TransactWriteItem.builder().delete(Delete.builder().tableName(table).key(key).build()).build());
    }

    private static Map<String, AttributeValue> sagaKey(String sagaIdentifier) {
        return Map.of("pk", s("saga#" + sagaIdentifier), "sk", s(STATE));
    }

    private static Map<String, AttributeValue> associationItemKey(Class<?> sagaType, String sagaIdentifier,
                                                                  AssociationValue association) {
        return Map.of("pk", s(associationKey(sagaType, association)), "sk", s(sagaIdentifier));
    }

    private static String associationKey(Class<?> sagaType, AssociationValue association) {
        return "assoc#" + sagaType.getName() + "#" + association.getKey() + "#" + association.getValue();
    }

    /** Association values as "key=value", with the key's '=' and '\' escaped. */
    private static String encode(AssociationValue association) {
        return association.getKey().replace("\\", "\\\\").replace("=", "\\=") + "=" + association.getValue();
    }

    private static AssociationValue decode(String encoded) {
        StringBuilder key = new StringBuilder();
        for (int i = 0; i < encoded.length(); i++) {
            char c = encoded.charAt(i);
            if (c == '\\' && i + 1 < encoded.length()) {
                key.append(encoded.charAt(++i));
            } else if (c == '=') {
                return new AssociationValue(key.toString(), encoded.substring(i + 1));
            } else {
                key.append(c);
            }
        }
        throw new IllegalStateException("corrupt association value: " + encoded);
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private static AttributeValue n(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }

    private record Write(ItemKey key, TransactWriteItem item) {
    }

    private record SagaEntry<S>(S saga, Set<AssociationValue> associationValues) implements Entry<S> {
    }
}
