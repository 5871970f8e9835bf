package io.dagy.projection.usage;

import io.dagy.eventstore.tx.DynamoTransaction;
import io.dagy.eventstore.tx.DynamoTransactionException;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.eventstore.tx.OwnedItems;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Usage totals per organization and period in {@code DAGY_USAGE_AGGREGATES} (docs/usage.md): one item per
 * organization, granularity and period ({@code pk = usage#<org>#<hour|day|month>}, {@code sk} the period in UTC:
 * {@code 2026-11-30T02}, {@code 2026-11-30}, {@code 2026-11}), holding a map {@code m} of metric to integer total and
 * a {@code version}.
 *
 * <p>A change is a put of the whole item conditioned on the version it read, so two segments or nodes adding to the
 * same period never lose an addition (the loser's transaction is cancelled and its batch handled again). Several events
 * of one batch adding to the same period fold into one put in the processor's transaction, keeping the condition on
 * the version the table holds. Totals are integers (milliseconds, counts), so sums are exact.
 */
public final class UsageAggregates {

    public enum Granularity {
        HOUR(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH", Locale.ROOT).withZone(ZoneOffset.UTC)),
        DAY(DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT).withZone(ZoneOffset.UTC)),
        MONTH(DateTimeFormatter.ofPattern("yyyy-MM", Locale.ROOT).withZone(ZoneOffset.UTC));

        private final DateTimeFormatter period;

        Granularity(DateTimeFormatter period) {
            this.period = period;
        }

        /** The period an instant falls in, as its sort key. */
        public String periodOf(Instant at) {
            return period.format(at);
        }

        public String code() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final int ATTEMPTS = 50;

    private final DynamoDbClient dynamoDb;
    private final String table;

    private final OwnedItems owned;

    public UsageAggregates(DynamoDbClient dynamoDb, String table) {
        this(dynamoDb, table, OwnedItems.NONE);
    }

    /**
     * @param owned what the reads of totals may answer from (decision 88); a stale answer fails the write's version
     *              condition, and the retry reads the table
     */
    public UsageAggregates(DynamoDbClient dynamoDb, String table, OwnedItems owned) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.owned = owned;
    }

    public String table() {
        return table;
    }

    /**
     * Adds the amounts of one metered {@code fact} (a deterministic id: the same fact, the same id) to the
     * organization's hour, day and month of {@code at}. The fact's id goes into the item as {@code last_fact}: two
     * different additions that read the same version then never write identical items, which the transaction would
     * take for a redo of one write already done (decision 43) and so lose one of them.
     */
    public void add(String org, Instant at, String fact, Map<String, Long> amounts) {
        if (DynamoTransactionManager.current().isPresent()) {
            addIn(DynamoTransactionManager.current().get(), org, at, fact, amounts);
            return;
        }
        DynamoTransactionManager transactions = new DynamoTransactionManager(dynamoDb);
        for (int attempt = 1; ; attempt++) {
            var transaction = transactions.startTransaction();
            try {
                addIn(DynamoTransactionManager.current().orElseThrow(), org, at, fact, amounts);
                transaction.commit();
                return;
            } catch (DynamoTransactionException conflict) {
                transaction.rollback();
                if (attempt >= ATTEMPTS) {
                    throw conflict;
                }
            } catch (RuntimeException failure) {
                transaction.rollback();
                throw failure;
            }
        }
    }

    private void addIn(DynamoTransaction transaction, String org, Instant at, String fact, Map<String, Long> amounts) {
        for (Granularity granularity : Granularity.values()) {
            Map<String, AttributeValue> key = key(org, granularity, granularity.periodOf(at));
            DynamoTransaction.ItemKey itemKey = new DynamoTransaction.ItemKey(table, key);
            Map<String, AttributeValue> current;
            String condition;
            Map<String, AttributeValue> values;
            var pending = transaction.pending(itemKey).map(write -> write.item().put());
            if (pending.isPresent()) {
                current = pending.get().item();
                condition = pending.get().conditionExpression();
                values = pending.get().hasExpressionAttributeValues() ? pending.get().expressionAttributeValues() : null;
            } else {
                var stored = owned.read(itemKey, () -> Optional.ofNullable(
                        dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(key)).item())
                        .filter(item -> !item.isEmpty()));
                if (stored.isEmpty()) {
                    current = null;
                    condition = "attribute_not_exists(pk)";
                    values = null;
                } else {
                    current = stored.get();
                    condition = "version = :base";
                    values = Map.of(":base", current.get("version"));
                }
            }
            Map<String, Long> totals = current == null ? new TreeMap<>() : totalsOf(current);
            amounts.forEach((metric, amount) -> totals.merge(metric, amount, Long::sum));
            long version = current == null ? 1 : Long.parseLong(current.get("version").n()) + 1;
            Map<String, AttributeValue> item = new HashMap<>(key);
            item.put("org_id", AttributeValue.fromS(org));
            item.put("granularity", AttributeValue.fromS(granularity.code()));
            item.put("period", AttributeValue.fromS(granularity.periodOf(at)));
            item.put("version", AttributeValue.fromN(Long.toString(version)));
            item.put("last_fact", AttributeValue.fromS(fact));
            Map<String, AttributeValue> m = new HashMap<>();
            totals.forEach((metric, total) -> m.put(metric, AttributeValue.fromN(Long.toString(total))));
            item.put("m", AttributeValue.fromM(m));
            Put.Builder put = Put.builder().tableName(table).item(item).conditionExpression(condition);
            if (values != null && !values.isEmpty()) {
                put.expressionAttributeValues(values);
            }
            transaction.write(itemKey, TransactWriteItem.builder().put(put.build()).build(),
                    message -> new DynamoTransactionException("another writer changed the usage aggregate first ("
                            + message + "); nothing was written, add again", null));
            owned.written(transaction, itemKey, item);
        }
    }

    /** One period's totals. */
    public record Period(String period, Map<String, Long> totals) {
    }

    /** The organization's periods of a granularity from {@code from} to {@code to} (both included), in order. */
    public List<Period> periods(String org, Granularity granularity, Instant from, Instant to) {
        List<Period> periods = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        do {
            QueryRequest.Builder query = QueryRequest.builder().tableName(table).consistentRead(true)
                    .keyConditionExpression("pk = :pk AND sk BETWEEN :from AND :to")
                    .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(partition(org, granularity)),
                            ":from", AttributeValue.fromS(granularity.periodOf(from)),
                            ":to", AttributeValue.fromS(granularity.periodOf(to))));
            if (start != null) {
                query.exclusiveStartKey(start);
            }
            QueryResponse response = dynamoDb.query(query.build());
            response.items().forEach(item -> periods.add(new Period(item.get("sk").s(), totalsOf(item))));
            start = response.hasLastEvaluatedKey() && !response.lastEvaluatedKey().isEmpty() ? response.lastEvaluatedKey() : null;
        } while (start != null);
        return periods;
    }

    static Map<String, Long> totalsOf(Map<String, AttributeValue> item) {
        Map<String, Long> totals = new TreeMap<>();
        if (item.containsKey("m")) {
            item.get("m").m().forEach((metric, value) -> totals.put(metric, Long.parseLong(value.n())));
        }
        return totals;
    }

    static String partition(String org, Granularity granularity) {
        return "usage#" + org + "#" + granularity.code();
    }

    static Map<String, AttributeValue> key(String org, Granularity granularity, String period) {
        return Map.of("pk", AttributeValue.fromS(partition(org, granularity)), "sk", AttributeValue.fromS(period));
    }
}
