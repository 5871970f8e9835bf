package io.dagy.projection.audit;

import io.dagy.contracts.identity.MessageKeys;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.projection.usage.UsageAggregates;
import io.dagy.projection.usage.UsageAggregates.Granularity;
import io.dagy.projection.usage.UsageProjection;
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.eventhandling.AnnotationEventHandlerAdapter;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * Rebuilds one organization's audit log and usage from the event store into fresh tables, then compares them with the
 * live ones (docs/audit.md, "Replay"; decision 48). It reads the store itself, from the tail to the head as it stands
 * when the read reaches it (the <em>cut</em>), on the caller's thread, through the same projection classes the live
 * processors run, committing every {@link #BATCH} events of the organization in one DynamoDB transaction as a
 * processor would. It takes no token and no claim, so live processors never wait for it.
 *
 * <p>What "identical" means, with runs going on while it reads:
 * <ul>
 *     <li><b>audit</b>: the replayed chain's records equal the live chain's first records one by one (same audit id,
 *     same hash, which covers every field and the link before), and the replayed head equals the live record at the
 *     same place. Live records after them come from events after the cut;</li>
 *     <li><b>usage</b>: every replayed usage event exists live with the same content, and for every organization
 *     period and metric, the live total minus what live usage events after the cut added equals the replayed total.</li>
 * </ul>
 */
public final class AuditReplay {

    /** Events of the organization per transaction, as a processor's batch. */
    public static final int BATCH = 16;

    /** The fresh tables a replay writes. */
    public record Tables(String auditLogs, String usageEvents, String usageAggregates) {
        public List<String> all() {
            return List.of(auditLogs, usageEvents, usageAggregates);
        }
    }

    /** The live tables it compares with. */
    public record Live(AuditChain chain, UsageAggregates aggregates, String usageEventsTable) {
    }

    public record AuditComparison(boolean identical, long replayedRecords, AuditChain.Head replayedHead,
                                  AuditChain.Head liveHeadAtSamePlace, long liveRecords, String firstDifference) {
    }

    public record UsageComparison(boolean identical, Map<String, Long> replayedTotals, Map<String, Long> liveTotals,
                                  long liveFactsAfterCut, String firstDifference) {
    }

    public record Result(long eventsRead, long organizationEvents, Duration took, AuditComparison audit,
                         UsageComparison usage) {
        public boolean identical() {
            return audit.identical() && usage.identical();
        }
    }

    private final DynamoDbClient dynamoDb;
    private final EventStorageEngine events;

    public AuditReplay(DynamoDbClient dynamoDb, EventStorageEngine events) {
        this.dynamoDb = dynamoDb;
        this.events = events;
    }

    /** Creates the fresh tables (on-demand capacity), waiting until they exist. */
    public void createTables(Tables tables) {
        new TableBootstrap(dynamoDb).createMissing(Map.of(DagyTable.AUDIT_LOGS, tables.auditLogs(),
                DagyTable.USAGE_EVENTS, tables.usageEvents(), DagyTable.USAGE_AGGREGATES, tables.usageAggregates()));
    }

    public void deleteTables(Tables tables) {
        tables.all().forEach(table -> dynamoDb.deleteTable(b -> b.tableName(table)));
    }

    /**
     * Replays the organization's events into {@code tables} (created before) and compares with {@code live}.
     * {@code progress} is told the events read so far, every 1,000 events.
     */
    public Result run(String org, Tables tables, Live live, LongConsumer progress, Duration waitForLive) {
        long start = System.nanoTime();
        AuditChain chain = new AuditChain(dynamoDb, tables.auditLogs());
        UsageAggregates aggregates = new UsageAggregates(dynamoDb, tables.usageAggregates());
        List<AnnotationEventHandlerAdapter> handlers = List.of(
                new AnnotationEventHandlerAdapter(new AuditLogProjection(dynamoDb, chain)),
                new AnnotationEventHandlerAdapter(new UsageProjection(dynamoDb, tables.usageEvents(), aggregates)));
        DynamoTransactionManager transactions = new DynamoTransactionManager(dynamoDb);
        long read = 0;
        long ofOrg = 0;
        List<EventMessage<?>> batch = new ArrayList<>(BATCH);
        try (Stream<? extends TrackedEventMessage<?>> stream = events.readEvents(null, false)) {
            Iterator<? extends TrackedEventMessage<?>> iterator = stream.iterator();
            while (iterator.hasNext()) {
                TrackedEventMessage<?> event = iterator.next();
                read++;
                if (org.equals(event.getMetaData().get(MessageKeys.ORG_ID))) {
                    ofOrg++;
                    batch.add(event);
                    if (batch.size() == BATCH) {
                        commit(transactions, handlers, batch);
                    }
                }
                if (read % 1_000 == 0) {
                    progress.accept(read);
                }
            }
        }
        commit(transactions, handlers, batch);
        progress.accept(read);
        AuditComparison audit = compareAudit(org, chain, live.chain(), waitForLive);
        UsageComparison usage = compareUsage(org, tables, aggregates, live);
        return new Result(read, ofOrg, Duration.ofNanos(System.nanoTime() - start), audit, usage);
    }

    private static void commit(DynamoTransactionManager transactions, List<AnnotationEventHandlerAdapter> handlers,
                               List<EventMessage<?>> batch) {
        if (batch.isEmpty()) {
            return;
        }
        Transaction transaction = transactions.startTransaction();
        try {
            for (EventMessage<?> event : batch) {
                for (AnnotationEventHandlerAdapter handler : handlers) {
                    if (handler.canHandle(event)) {
                        handler.handle(event);
                    }
                }
            }
            transaction.commit();
        } catch (Exception failure) {
            transaction.rollback();
            throw new IllegalStateException("replay failed at a batch of " + batch.size() + " events", failure);
        }
        batch.clear();
    }

    /**
     * The event store has no total order across its shards (a reader merges them per batch), so the order in which a
     * replay reads an organization's events can differ from the live processor's. The replay therefore takes the
     * <em>order</em> from the live chain and checks everything else: it chains its own records again in the live
     * order and requires, place by place, the same audit id and the same hash (which covers every field and the link
     * before). Live records with no replayed counterpart may only follow all matched ones (they come from events after
     * the cut); replayed records missing from the live log are a difference.
     */
    private AuditComparison compareAudit(String org, AuditChain replayed, AuditChain live, Duration waitForLive) {
        List<AuditRecord> rebuilt = replayed.page(org, 0, Integer.MAX_VALUE, Integer.MAX_VALUE, r -> true).records();
        long deadline = System.nanoTime() + waitForLive.toNanos();
        while (live.head(org).seq() < rebuilt.size() && System.nanoTime() < deadline) {
            sleep();   // the live projection may not have reached the cut yet
        }
        Map<String, AuditRecord> byId = new LinkedHashMap<>();
        rebuilt.forEach(record -> byId.put(record.auditId(), record));
        List<AuditRecord> current = live.page(org, 0, Integer.MAX_VALUE, Integer.MAX_VALUE, r -> true).records();
        String difference = null;
        String previous = AuditRecord.GENESIS;
        AuditChain.Head replayedHead = new AuditChain.Head(0, AuditRecord.GENESIS);
        AuditChain.Head liveAtPlace = new AuditChain.Head(0, AuditRecord.GENESIS);
        boolean afterCut = false;
        for (int i = 0; i < current.size() && difference == null; i++) {
            AuditRecord liveRecord = current.get(i);
            AuditRecord mine = byId.remove(liveRecord.auditId());
            if (mine == null) {
                afterCut = true;
                continue;
            }
            if (afterCut) {
                difference = "live record " + i + " has no event before the cut, but records after it do";
                break;
            }
            AuditRecord rechained = mine.chainedAfter(i + 1, previous);
            if (!rechained.hash().equals(liveRecord.hash()) || liveRecord.seq() != i + 1) {
                difference = "record " + (i + 1) + " (" + liveRecord.auditId() + ") differs: its hash is "
                        + liveRecord.hash() + " live but " + rechained.hash() + " replayed";
                break;
            }
            previous = rechained.hash();
            replayedHead = new AuditChain.Head(rechained.seq(), rechained.hash());
            liveAtPlace = new AuditChain.Head(liveRecord.seq(), liveRecord.hash());
        }
        if (difference == null && !byId.isEmpty()) {
            difference = "replayed record " + byId.keySet().iterator().next() + " is missing from the live log";
        }
        return new AuditComparison(difference == null && replayedHead.equals(liveAtPlace), rebuilt.size(), replayedHead,
                liveAtPlace, current.size(), difference);
    }

    private UsageComparison compareUsage(String org, Tables tables, UsageAggregates replayed, Live live) {
        // the replayed usage events: the whole fresh table holds this organization's only
        Map<String, Map<String, AttributeValue>> rebuiltFacts = new HashMap<>();
        Map<String, AttributeValue> start = null;
        do {
            var request = software.amazon.awssdk.services.dynamodb.model.ScanRequest.builder()
                    .tableName(tables.usageEvents()).consistentRead(true)
                    .filterExpression("begins_with(pk, :usage)")
                    .expressionAttributeValues(Map.of(":usage", AttributeValue.fromS("usage-events#")));
            if (start != null) {
                request.exclusiveStartKey(start);
            }
            var response = dynamoDb.scan(request.build());
            response.items().forEach(item -> rebuiltFacts.put(item.get("pk").s() + "|" + item.get("sk").s(), item));
            start = response.hasLastEvaluatedKey() && !response.lastEvaluatedKey().isEmpty() ? response.lastEvaluatedKey() : null;
        } while (start != null);

        Instant first = rebuiltFacts.values().stream().map(item -> Instant.parse(item.get("timestamp").s()))
                .min(Instant::compareTo).orElse(Instant.now());
        Instant now = Instant.now();
        String difference = null;
        // live facts of every day from the first replayed one: those the replay lacks came after the cut
        Map<String, Map<String, Long>> afterCut = new TreeMap<>();   // "<granularity>|<period>" -> metric -> amount
        long liveFactsAfterCut = 0;
        Set<String> seen = new HashSet<>();
        for (Instant day = first.minus(Duration.ofDays(1)); !day.isAfter(now.plus(Duration.ofDays(1))); day = day.plus(Duration.ofDays(1))) {
            String partition = "usage-events#" + org + "#" + Granularity.DAY.periodOf(day);
            if (!seen.add(partition)) {
                continue;
            }
            Map<String, AttributeValue> from = null;
            do {
                var query = software.amazon.awssdk.services.dynamodb.model.QueryRequest.builder()
                        .tableName(live.usageEventsTable()).consistentRead(true).keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(partition)));
                if (from != null) {
                    query.exclusiveStartKey(from);
                }
                var response = dynamoDb.query(query.build());
                for (var item : response.items()) {
                    String key = item.get("pk").s() + "|" + item.get("sk").s();
                    var rebuilt = rebuiltFacts.remove(key);
                    if (rebuilt == null) {
                        liveFactsAfterCut++;
                        Instant at = Instant.parse(item.get("timestamp").s());
                        for (Granularity granularity : Granularity.values()) {
                            amounts(item).forEach((metric, amount) -> afterCut
                                    .computeIfAbsent(granularity.code() + "|" + granularity.periodOf(at), k -> new TreeMap<>())
                                    .merge(metric, amount, Long::sum));
                        }
                    } else if (difference == null && !rebuilt.equals(item)) {
                        difference = "usage event " + key + " differs: " + item + " live but " + rebuilt + " replayed";
                    }
                }
                from = response.hasLastEvaluatedKey() && !response.lastEvaluatedKey().isEmpty() ? response.lastEvaluatedKey() : null;
            } while (from != null);
        }
        if (difference == null && !rebuiltFacts.isEmpty()) {
            difference = "usage event " + rebuiltFacts.keySet().iterator().next() + " was replayed but is not live";
        }
        Map<String, Long> replayedMonthly = new TreeMap<>();
        Map<String, Long> liveMonthly = new TreeMap<>();
        Instant from = first.minus(Duration.ofDays(1));
        Instant to = now.plus(Duration.ofDays(1));
        for (Granularity granularity : Granularity.values()) {
            Map<String, Map<String, Long>> rebuiltPeriods = new TreeMap<>();
            replayed.periods(org, granularity, from, to).forEach(p -> rebuiltPeriods.put(p.period(), p.totals()));
            Map<String, Map<String, Long>> livePeriods = new TreeMap<>();
            live.aggregates().periods(org, granularity, from, to).forEach(p -> {
                Map<String, Long> adjusted = new TreeMap<>(p.totals());
                afterCut.getOrDefault(granularity.code() + "|" + p.period(), Map.of())
                        .forEach((metric, amount) -> adjusted.merge(metric, -amount, Long::sum));
                adjusted.values().removeIf(value -> value == 0);
                if (!adjusted.isEmpty()) {
                    livePeriods.put(p.period(), adjusted);
                }
            });
            rebuiltPeriods.values().forEach(totals -> totals.values().removeIf(value -> value == 0));
            rebuiltPeriods.values().removeIf(Map::isEmpty);
            if (difference == null && !rebuiltPeriods.equals(livePeriods)) {
                difference = granularity.code() + " totals differ: " + livePeriods + " live (before the cut) but "
                        + rebuiltPeriods + " replayed";
            }
            if (granularity == Granularity.MONTH) {
                rebuiltPeriods.values().forEach(t -> t.forEach((m, v) -> replayedMonthly.merge(m, v, Long::sum)));
                livePeriods.values().forEach(t -> t.forEach((m, v) -> liveMonthly.merge(m, v, Long::sum)));
            }
        }
        return new UsageComparison(difference == null, replayedMonthly, liveMonthly, liveFactsAfterCut, difference);
    }

    /** What a usage event added to the totals. */
    private static Map<String, Long> amounts(Map<String, AttributeValue> item) {
        Map<String, Long> amounts = new LinkedHashMap<>();
        String kind = item.get("kind").s();
        if ("run_started".equals(kind)) {
            amounts.put(UsageProjection.RUNS_STARTED, 1L);
        } else if ("task_attempt".equals(kind)) {
            String tier = item.get("tier").s();
            String backend = item.get("backend").s();
            amounts.put(UsageProjection.attemptsMetric(tier, backend), 1L);
            amounts.put(UsageProjection.billableMetric(tier, backend), Long.parseLong(item.get("billable_ms").n()));
        }
        return amounts;
    }

    private static void sleep() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", interrupted);
        }
    }

}
