package io.dagy.saga.backend;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.WorkerQueue;
import io.dagy.saga.report.ReportTooLargeException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;
import tools.jackson.databind.json.JsonMapper;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

/**
 * Attempts for external workers, which long-poll the API for work on a named queue. A dispatch becomes two items in
 * {@code DAGY_TASK_RUNS}, written together: the queued entry ({@code pk = worker-queue#<queue>}, sorted by enqueue
 * time) and a guard per dispatch id ({@code pk = worker-dispatch#<id>}) that makes a repeated dispatch a no-op and
 * tracks the lease. A poll leases an entry by deleting it and moving its guard from queued to leased in one
 * transaction, so two workers never get the same attempt. What the worker reports goes through {@link BackendReports}
 * like any backend's.
 */
public final class WorkerBackend implements ExecutionBackend {

    private static final String QUEUED = "queued";
    private static final String LEASED = "leased";
    private static final String CANCEL_REQUESTED = "cancel_requested";
    /** A guard's attribute: the id of the lease of an offer that wrote it, so its put knows it again. */
    private static final String LEASE = "lease";
    /**
     * How long a poll of an empty queue waits before it looks again: a dispatch on this node wakes it at once, one on
     * another node is seen within this time.
     */
    private static final long EMPTY_QUEUE_WAIT_MILLIS = 1_000;
    /** A queue entry's attribute: the attempt's start may wait for its report (decision 89). */
    private static final String START_MAY_WAIT = "startMayWait";
    /** An offer no poll took within this time is dropped: the saga has queued the attempt by then. */
    private static final long OFFER_MILLIS = 2_000;
    private static final int LEASES_REMEMBERED = 20_000;
    /** How long a poll whose look found only entries other polls here are leasing waits before it looks again. */
    private static final long TRIED_WAIT_MILLIS = 20;
    /** How long a dispatch waits for a lease on the wire here before sending its guarded queue write anyway. */
    private static final long LEASE_WAIT_SECONDS = 30;

    /** An attempt offered to this node's waiting polls; {@code startMayWait}: see {@link #startMayWait}. */
    private record Offer(WorkItem item, String org, long offeredAt, boolean startMayWait) {
    }

    /**
     * Monitors a dispatch notifies, so it wakes this node's polls of its queue at once; a fixed set chosen by the
     * queue's hash (queue names come from clients, so one monitor per name would grow without bound).
     */
    private final Object[] queueSignals = IntStream.range(0, 64).mapToObj(i -> new Object()).toArray();

    /** Attempts committed on this node, offered to the polls waiting here before the saga queues them (see offer). */
    private final Map<String, java.util.Deque<Offer>> offers = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * When a poll on this node last found each queue empty: other polls of the queue wait instead of asking again
     * within {@link #EMPTY_QUEUE_WAIT_MILLIS}, so an idle node asks once a second per queue however many workers
     * wait. A dispatch or offer here clears it.
     */
    private final Map<String, EmptyLook> emptySeen = new java.util.concurrent.ConcurrentHashMap<>();

    /** A look at a queue that found it empty: when, and how many arrivals there had been here by then. */
    private record EmptyLook(long nanos, long arrivals) {
    }
    /** Counts the dispatches and offers made here per queue: a poll that saw it empty knows whether one came since. */
    private final Map<String, java.util.concurrent.atomic.AtomicLong> arrivals = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * Queues that may hold entries, as far as this node knows (it queued one, or a look found some): their attempts
     * are not handed over in memory, so an entry is never overtaken by younger attempts (decision 95).
     */
    private final Set<String> backlog = ConcurrentHashMap.newKeySet();
    /**
     * Entries a look on this node read and that no poll here has tried yet: under a backlog the polls here lease them
     * without a look each (decision 96). Tried only while younger than {@link #EMPTY_QUEUE_WAIT_MILLIS}; an entry
     * another node leased meanwhile costs a refused lease.
     */
    private final Map<String, ConcurrentLinkedDeque<SeenEntry>> seenEntries = new ConcurrentHashMap<>();

    /**
     * The entries (their sort keys) a poll here is leasing or that wait in {@link #seenEntries}: a look that reads
     * them again leaves them to that poll, instead of sending a second lease that would be refused.
     */
    private final Map<String, Set<String>> trying = new ConcurrentHashMap<>();

    /** A queue entry as a look read it, and when ({@link System#nanoTime}). */
    private record SeenEntry(long readAt, Map<String, AttributeValue> entry) {
    }

    /** When a poll on this node last queried each queue. */
    private final Map<String, Long> lastLook = new ConcurrentHashMap<>();
    /** Polls waiting for each queue partition on this node. */
    private final Map<String, java.util.concurrent.atomic.AtomicInteger> waiting = new java.util.concurrent.ConcurrentHashMap<>();
    /** Attempts this node leased, with their holder: a holder's reports need no read of the guard. */
    private final Map<String, String> leasedHere = Collections.synchronizedMap(new java.util.LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > LEASES_REMEMBERED;
        }
    });
    /**
     * Offers whose lease (the guard's conditional put) is on the wire, with its outcome: the saga's dispatch of the
     * same attempt waits for it rather than sending a queue write that the lease would refuse, or that would refuse
     * the lease. Completed after {@link #leasedHere} is updated.
     */
    private final Map<String, CompletableFuture<Boolean>> leasing = new ConcurrentHashMap<>();

    /** Set while a report whose poll follows it commits on this thread (see {@link #reportBeforePoll}). */
    private final ThreadLocal<Held> holding = new ThreadLocal<>();

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final JsonMapper json;
    private final BackendReports reports;
    private final Clock clock;

    public WorkerBackend(DynamoDbClient dynamoDb, String table, JsonMapper json, BackendReports reports, Clock clock) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.json = json;
        this.reports = reports;
        this.clock = clock;
    }

    /**
     * An attempt handed to a worker; {@code traceparent} is the W3C trace context of its dispatch (null when tracing
     * is off, and in entries queued before it existed): a worker that passes it on joins the run's trace.
     */
    public record WorkItem(String dispatchId, String runId, String taskId, int attempt, Map<String, Object> config,
                           Map<String, Object> params, String traceparent) {
    }

    @Override
    public BackendType type() {
        return BackendType.WORKER;
    }

    @Override
    public void dispatch(Dispatch dispatch) {
        Optional<String> partition = queueOf(dispatch);
        if (partition.isEmpty()) {
            // a deployment validated before queue names were checked: its queue could name another organization's
            reports.failed(dispatch.dispatchId(), "backend_misconfigured", "the worker queue name is not valid");
            return;
        }
        if (leasedByOffer(dispatch.dispatchId())) {
            return; // handed over and leased by a poll on this node: its guard is written, the queue write would fail
        }
        queue(partition.get(), workItem(dispatch), dispatch.org().value(), startMayWait(dispatch),
                "attribute_not_exists(pk)", Map.of()); // refused: this dispatch id was queued before
    }

    /**
     * Queues an attempt: its guard, as queued, and its entry, in one transaction, the guard's put under {@code
     * condition} (its values in {@code values}, its one name {@code #lease}). False when the condition refused it.
     */
    private boolean queue(String queue, WorkItem item, String org, boolean startMayWait, String condition,
                          Map<String, AttributeValue> values) {
        String entryKey = String.format("%015d#%s", clock.millis(), item.dispatchId());
        Map<String, AttributeValue> entry = new HashMap<>(key(queue, entryKey));
        entry.put("work", AttributeValue.fromB(SdkBytes.fromByteArray(json.writeValueAsBytes(item))));
        entry.put(START_MAY_WAIT, AttributeValue.fromBool(startMayWait));
        Map<String, AttributeValue> guard = new HashMap<>(guardKey(item.dispatchId()));
        guard.put("state", s(QUEUED));
        guard.put("queue", s(queue));
        guard.put("org", s(org));
        guard.put("entry", s(entryKey));
        Put.Builder guardPut = Put.builder().tableName(table).item(guard).conditionExpression(condition);
        if (!values.isEmpty()) {
            guardPut.expressionAttributeNames(Map.of("#lease", LEASE)).expressionAttributeValues(values);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                dynamoDb.transactWriteItems(b -> b.transactItems(
                        TransactWriteItem.builder().put(guardPut.build()).build(),
                        TransactWriteItem.builder().put(Put.builder().tableName(table).item(entry).build()).build()));
                break;
            } catch (TransactionCanceledException cancelled) {
                boolean conflict = cancelled.hasCancellationReasons() && cancelled.cancellationReasons().stream()
                        .anyMatch(reason -> "TransactionConflict".equals(reason.code()));
                if (!conflict) {
                    return false;
                }
                if (attempt == 5) {
                    throw cancelled; // still conflicting: the caller fails (the saga's dispatch is redelivered)
                }
                // another transaction touched the same items at the same moment (real DynamoDB only): send it again
            }
        }
        backlog.add(queue);
        arrived(queue);
        Object signal = signalOf(queue);
        synchronized (signal) {
            // one attempt wakes one poll: woken together, every poll would query and race to lease the same entry
            signal.notify();
        }
        return true;
    }

    /**
     * Hands a just-committed attempt straight to a poll waiting on this node, if one is (Temporal's "sync match"):
     * the poll leases it by writing its guard as leased (one conditional put) and returns it, without the round trips
     * of the queue (the saga's dispatch, the poll's query, the lease transaction). The saga's {@link #dispatch} of the
     * same attempt then finds the guard and does nothing; if the saga came first, the put fails and the poll takes the
     * attempt from the queue as usual. One dispatch id is one attempt either way. An offer lives in memory only: on a
     * node that dies, the saga's dispatch (durable) queues it.
     */
    public void offer(Dispatch dispatch) {
        Optional<String> partition = queueOf(dispatch);
        if (partition.isEmpty()) {
            return; // the saga's dispatch reports it
        }
        String queue = partition.get();
        var waiters = waiting.get(queue);
        if (waiters == null || waiters.get() == 0 || backlog.contains(queue)) {
            return; // nobody waits here, or older attempts wait in the queue: the saga queues this one behind them
        }
        Offer offer = new Offer(workItem(dispatch), dispatch.org().value(), System.nanoTime(), startMayWait(dispatch));
        Held held = holding.get();
        if (held != null && held.hold(queue, offer)) {
            return; // committed by the report whose poll follows: that poll takes it first (decision 102)
        }
        share(queue, offer);
    }

    /** Puts an offer where this node's waiting polls take it, and wakes one. */
    private void share(String queue, Offer offer) {
        // not an arrival in the queue: the polls' last look at it stays good. Counting it made every poll woken here
        // but beaten to the offer look at the queue again, one query per hand-off (decision 89). An offer nobody
        // takes is queued by the saga, whose dispatch counts as an arrival.
        Object signal = signalOf(queue);
        synchronized (signal) {
            offers.computeIfAbsent(queue, q -> new java.util.concurrent.ConcurrentLinkedDeque<>()).add(offer);
            signal.notify();
        }
    }

    private void wakeAll(String queue) {
        Object signal = signalOf(queue);
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    private void arrived(String queue) {
        emptySeen.remove(queue);
        arrivals.computeIfAbsent(queue, q -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
    }

    private long arrivalsOf(String queue) {
        var count = arrivals.get(queue);
        return count == null ? 0 : count.get();
    }

    /** The queue partition of a dispatch, if its queue name is valid. */
    private static Optional<String> queueOf(Dispatch dispatch) {
        Object name = dispatch.spec().backend().config().get("queue");
        return name instanceof String queue && WorkerQueue.isValid(queue)
                ? Optional.of(queuePartition(dispatch.org(), queue)) : Optional.empty();
    }

    private WorkItem workItem(Dispatch dispatch) {
        return new WorkItem(dispatch.dispatchId(), dispatch.taskRunId().runId().value(), dispatch.taskRunId().taskId(),
                dispatch.attempt(), dispatch.spec().backend().config(), dispatch.params(), dispatch.traceparent());
    }

    /**
     * Whether recording the start of the dispatch's attempt may wait for its first report: only without a
     * schedule-to-start timeout, whose deadline must see the start promptly (decision 89).
     */
    private static boolean startMayWait(Dispatch dispatch) {
        return dispatch.spec().timeouts() == null || dispatch.spec().timeouts().scheduleToStart() == null;
    }

    /**
     * Whether a poll may take an attempt handed over in memory before looking at the queue: only when the queue holds
     * nothing this node knows of, and this node looked at it within {@link #EMPTY_QUEUE_WAIT_MILLIS} (entries another
     * node queued are found by that look). Otherwise a steady stream of hand-offs (workers whose reports each bring
     * the next task of their chain) kept queued attempts waiting as long as it lasted (decision 95).
     */
    private boolean handOffsFirst(String queue) {
        Long looked = lastLook.get(queue);
        return !backlog.contains(queue) && looked != null
                && System.nanoTime() - looked < EMPTY_QUEUE_WAIT_MILLIS * 1_000_000;
    }

    /** The oldest offer of a queue that is not stale, or null. */
    private Offer takeOffer(String queue) {
        var queued = offers.get(queue);
        for (Offer offer = queued == null ? null : queued.poll(); offer != null; offer = queued.poll()) {
            if (System.nanoTime() - offer.offeredAt() < OFFER_MILLIS * 1_000_000) {
                return offer;
            }
        }
        return null;
    }

    private boolean hasOffer(String queue) {
        var queued = offers.get(queue);
        return queued != null && !queued.isEmpty();
    }

    /**
     * Whether a poll on this node leased the attempt from an offer, waiting for a lease still on the wire. An outcome
     * not known in time (or an interrupted wait) answers false: the queue write is then sent, and its guard's
     * condition keeps it from queueing a leased attempt.
     */
    private boolean leasedByOffer(String dispatchId) {
        var inFlight = leasing.get(dispatchId);
        if (inFlight != null) {
            try {
                if (inFlight.get(LEASE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    return true;
                }
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException unknown) {
                // not known in time: the guarded write decides
            }
        }
        return leasedHere.containsKey(dispatchId);
    }

    /**
     * Leases an offered attempt: its guard is written as leased to this worker, unless the saga queued it first.
     * While the put is on the wire, {@link #leasing} tells the saga's dispatch to wait for it.
     */
    private boolean leaseOffered(Offer offer, String queue, String workerId, CompletableFuture<Boolean> heldOutcome) {
        String dispatchId = offer.item().dispatchId();
        var outcome = heldOutcome != null ? heldOutcome : new CompletableFuture<Boolean>();
        leasing.put(dispatchId, outcome);
        boolean leased = false;
        try {
            leased = putLeasedGuard(offer, queue, workerId);
            if (leased) {
                leasedHere.put(dispatchId, offer.org() + "#" + workerId);
            }
            return leased;
        } finally {
            outcome.complete(leased);
            leasing.remove(dispatchId, outcome);
        }
    }

    /**
     * Writes an offered attempt's guard as leased to this worker. The guard carries a lease id of its own, so a put
     * that finds a guard tells whether it is its own: the SDK sends a put whose answer was lost again, and that second
     * put finds the first. When the outcome stays unknown (the SDK's retries, or that read, failed), a guard the put may
     * have written is turned into a queued one with its queue entry, in one transaction conditioned on the lease id,
     * before the poll fails: the attempt is then in the queue for the next poll, whether or not the saga's dispatch
     * (on any node) has already found the guard and gone on (decision 101).
     */
    private boolean putLeasedGuard(Offer offer, String queue, String workerId) {
        String dispatchId = offer.item().dispatchId();
        String lease = java.util.UUID.randomUUID().toString();
        Map<String, AttributeValue> guard = new HashMap<>(guardKey(dispatchId));
        guard.put("state", s(LEASED));
        guard.put("queue", s(queue));
        guard.put("org", s(offer.org()));
        guard.put("worker", s(workerId));
        guard.put(LEASE, s(lease));
        try {
            try {
                dynamoDb.putItem(b -> b.tableName(table).item(guard).conditionExpression("attribute_not_exists(pk)"));
                return true;
            } catch (ConditionalCheckFailedException guarded) {
                // the saga queued it first, or this very put landed before its answer was lost
                var found = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(guardKey(dispatchId)))
                        .item();
                return found != null && found.containsKey(LEASE) && lease.equals(found.get(LEASE).s());
            }
        } catch (SdkException unknown) {
            try {
                queue(queue, offer.item(), offer.org(), offer.startMayWait(), "#lease = :lease",
                        Map.of(":lease", s(lease))); // refused: the put never landed, and the saga's dispatch queues it
            } catch (SdkException stillUnknown) {
                unknown.addSuppressed(stillUnknown); // the attempt's timeouts are what is left to settle it
            }
            throw unknown;
        }
    }

    private Object signalOf(String queue) {
        return queueSignals[Math.floorMod(queue.hashCode(), queueSignals.length)];
    }

    /** Waits for a dispatch or offer here, unless one came since the poll looked ({@code seen} arrivals). */
    private void awaitDispatch(String queue, long seen, long millis) throws InterruptedException {
        Object signal = signalOf(queue);
        var waiters = waiting.computeIfAbsent(queue, q -> new java.util.concurrent.atomic.AtomicInteger());
        waiters.incrementAndGet();
        try {
            synchronized (signal) {
                // else one came since the last look (an offer counts only while the poll may take it first)
                if (!(hasOffer(queue) && handOffsFirst(queue)) && arrivalsOf(queue) == seen) {
                    signal.wait(millis);
                }
            }
        } finally {
            waiters.decrementAndGet();
        }
    }

    /**
     * The partition of an organization's queue. The default organization keeps the partition it had before tenancy,
     * so attempts queued then are still found; queue names hold no '#', so no two partitions coincide.
     */
    static String queuePartition(OrgId org, String queue) {
        return OrgId.DEFAULT.equals(org) ? "worker-queue#" + queue : "worker-queue#" + org.value() + "#" + queue;
    }

    /**
     * Applies a worker's report that will be followed by the worker's poll of {@code queueName} (decision 84): while
     * the report commits, that poll counts as waiting on the queue, so an attempt the report itself makes ready (the
     * next task of a chain) is offered to this node rather than left to the saga's queueing. The first such attempt
     * committed on this thread is held for this poll (decision 102): the saga's dispatch of it waits for the poll's
     * lease rather than racing it to the queue. Pass what this answers to {@link #poll(OrgId, String, String,
     * Duration, Held)}. A report that fails throws, and its held attempt is left to the saga.
     */
    public Held reportBeforePoll(OrgId org, String queueName, Runnable report) {
        String queue = queuePartition(org, queueName);
        var waiters = waiting.computeIfAbsent(queue, q -> new java.util.concurrent.atomic.AtomicInteger());
        Held held = new Held(queue);
        holding.set(held);
        waiters.incrementAndGet();
        boolean reported = false;
        try {
            report.run();
            reported = true;
            return held;
        } finally {
            waiters.decrementAndGet();
            holding.remove();
            if (!reported) {
                held.release();
            }
        }
    }

    /**
     * The attempt a report made ready, held for the poll that follows it: while held, the saga's dispatch of it waits
     * for that poll's lease (through {@link #leasing}) rather than queueing it.
     */
    public final class Held {
        private final String queue;
        private Offer offer;
        private CompletableFuture<Boolean> outcome;

        private Held(String queue) {
            this.queue = queue;
        }

        private boolean hold(String queueOfOffer, Offer offered) {
            if (offer != null || !queue.equals(queueOfOffer)) {
                return false;
            }
            offer = offered;
            outcome = new CompletableFuture<>();
            leasing.put(offered.item().dispatchId(), outcome);
            return true;
        }

        /** Lets the saga's dispatch go on: the held attempt was not leased by its poll. */
        private void release() {
            if (offer != null && !outcome.isDone()) {
                outcome.complete(false);
                leasing.remove(offer.item().dispatchId(), outcome);
            }
        }
    }

    /** A poll with nothing held for it. */
    public Optional<WorkItem> poll(OrgId org, String queueName, String workerId, Duration wait) throws InterruptedException {
        return poll(org, queueName, workerId, wait, null);
    }

    /**
     * Leases the oldest queued attempt of an organization's queue to a worker, waiting up to {@code wait} for one.
     */
    public Optional<WorkItem> poll(OrgId org, String queueName, String workerId, Duration wait, Held held)
            throws InterruptedException {
        String queue = queuePartition(org, queueName);
        long deadline = System.nanoTime() + wait.toNanos();
        if (held != null && held.offer != null) {
            try {
                if (!backlog.contains(queue) && !handOffsFirst(queue)) {
                    lookForEntries(queue); // entries another node queued go first; the saga waits meanwhile
                }
                if (!handOffsFirst(queue)) {
                    share(queue, held.offer); // as any offer, behind what the queue holds
                } else if (leaseOffered(held.offer, queue, workerId, held.outcome)) {
                    return Optional.of(leased(held.offer.item(), org, workerId, held.offer.startMayWait()));
                }
            } finally {
                held.release();
            }
        }
        do {
            for (Offer offer = handOffsFirst(queue) ? takeOffer(queue) : null; offer != null; offer = takeOffer(queue)) {
                if (leaseOffered(offer, queue, workerId, null)) {
                    return Optional.of(leased(offer.item(), org, workerId, offer.startMayWait()));
                }
            }
            for (SeenEntry candidate = takeSeen(queue); candidate != null; candidate = takeSeen(queue)) {
                Optional<WorkItem> item = tryLease(queue, candidate.entry(), org, workerId);
                if (item.isPresent()) {
                    return item;
                }
            }
            long seen = arrivalsOf(queue);
            EmptyLook look = emptySeen.get(queue);
            boolean fresh = look != null && look.arrivals() == seen
                    && System.nanoTime() - look.nanos() < EMPTY_QUEUE_WAIT_MILLIS * 1_000_000;
            // the polls waiting here wake together when a look expires: the one that renews it asks, the others wait
            EmptyLook mine = new EmptyLook(System.nanoTime(), seen);
            if (fresh || !(look == null ? emptySeen.putIfAbsent(queue, mine) == null : emptySeen.replace(queue, look, mine))) {
                EmptyLook current = fresh ? look : emptySeen.getOrDefault(queue, mine);
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                long sinceSeen = (System.nanoTime() - current.nanos()) / 1_000_000;
                awaitDispatch(queue, seen, Math.max(1, Math.min(EMPTY_QUEUE_WAIT_MILLIS - sinceSeen, left)));
                continue;
            }
            lastLook.put(queue, System.nanoTime());
            var entries = dynamoDb.query(b -> b.tableName(table).consistentRead(true).limit(10)
                    .keyConditionExpression("pk = :pk")
                    .expressionAttributeValues(Map.of(":pk", s(queue)))).items();
            if (!entries.isEmpty()) {
                backlog.add(queue);
                emptySeen.remove(queue, mine); // not empty: every poll waiting here may look at once
                wakeAll(queue);
            } else if (arrivalsOf(queue) == seen) {
                backlog.remove(queue); // empty, and nothing was queued here since the look began
            }
            // polls of several nodes would all race for the oldest entry: each node tries them in its own order; the
            // entries another poll here is trying, or has been given, are left to it
            Set<String> mineToTry = trying.computeIfAbsent(queue, q -> ConcurrentHashMap.newKeySet());
            List<Map<String, AttributeValue>> candidates = new ArrayList<>(entries.stream()
                    .filter(entry -> mineToTry.add(entry.get("sk").s())).toList());
            Collections.shuffle(candidates);
            int next = 0;
            try {
                while (next < candidates.size()) {
                    Optional<WorkItem> item = tryLease(queue, candidates.get(next++), org, workerId);
                    if (item.isPresent()) {
                        if (entries.size() == 1 && arrivalsOf(queue) == seen) {
                            backlog.remove(queue); // the only entry, and nothing was queued here since the look
                        }
                        // the rest go to the other polls here, which lease them without a look of their own
                        long readAt = System.nanoTime();
                        var shared = seenEntries.computeIfAbsent(queue, q -> new ConcurrentLinkedDeque<>());
                        candidates.subList(next, candidates.size()).forEach(entry -> shared.add(new SeenEntry(readAt, entry)));
                        next = candidates.size();
                        return item;
                    }
                }
            } finally {
                // a lease that failed with an error leaves the entries not yet tried to the next look
                candidates.subList(next, candidates.size()).forEach(entry -> untried(queue, entry));
            }
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            if (entries.isEmpty()) {
                awaitDispatch(queue, seen, Math.min(EMPTY_QUEUE_WAIT_MILLIS, left));
            } else if (candidates.isEmpty()) {
                // every entry read is another poll's here, whose lease is on the wire: look again once it is done
                Object signal = signalOf(queue);
                synchronized (signal) {
                    signal.wait(Math.min(TRIED_WAIT_MILLIS, left));
                }
            }
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }

    /**
     * Leases a queue entry to a worker, unless another poll did first. Either way the entry has left the queue, so
     * this node stops counting it as tried ({@link #trying}).
     */
    private Optional<WorkItem> tryLease(String queue, Map<String, AttributeValue> entry, OrgId org, String workerId) {
        WorkItem item;
        boolean leased;
        try {
            item = json.readValue(entry.get("work").b().asByteArray(), WorkItem.class);
            leased = lease(entry, item.dispatchId(), workerId);
        } finally {
            untried(queue, entry);
        }
        if (!leased) {
            return Optional.empty();
        }
        // entries queued before decision 89 do not say: their start is recorded at once
        boolean startMayWait = entry.containsKey(START_MAY_WAIT) && Boolean.TRUE.equals(entry.get(START_MAY_WAIT).bool());
        return Optional.of(leased(item, org, workerId, startMayWait));
    }

    /**
     * Looks whether a queue holds entries (one strongly consistent query of one item), for a held attempt when this
     * node has not looked lately: entries found make it a backlog, which the held attempt joins behind; none make the
     * look recent, so the attempt is handed over.
     */
    private void lookForEntries(String queue) {
        long lookedAt = System.nanoTime();
        boolean empty = dynamoDb.query(b -> b.tableName(table).consistentRead(true).limit(1)
                .keyConditionExpression("pk = :pk").expressionAttributeValues(Map.of(":pk", s(queue)))).items().isEmpty();
        if (empty) {
            lastLook.put(queue, lookedAt);
        } else {
            backlog.add(queue);
        }
    }

    /** The next entry a recent look here found and no poll here has tried, or null. */
    private SeenEntry takeSeen(String queue) {
        var shared = seenEntries.get(queue);
        for (SeenEntry entry = shared == null ? null : shared.poll(); entry != null; entry = shared.poll()) {
            if (System.nanoTime() - entry.readAt() < EMPTY_QUEUE_WAIT_MILLIS * 1_000_000) {
                return entry;
            }
            untried(queue, entry.entry()); // too old to trust: the next look reads it again, if it is still there
        }
        return null;
    }

    private void untried(String queue, Map<String, AttributeValue> entry) {
        var tried = trying.get(queue);
        if (tried != null) {
            tried.remove(entry.get("sk").s());
        }
    }

    /**
     * A leased attempt goes to its worker at once; its start is recorded in the background (a completion that
     * overtakes it records the start with it). With {@code startMayWait} (no schedule-to-start timeout) the start is
     * recorded only if no report came first (decision 89): a short task's start and end are then one commit.
     */
    private WorkItem leased(WorkItem item, OrgId org, String workerId, boolean startMayWait) {
        leasedHere.put(item.dispatchId(), org.value() + "#" + workerId);
        if (startMayWait) {
            reports.startedUnlessReported(item.dispatchId());
        } else {
            reports.startedInBackground(item.dispatchId());
        }
        return item;
    }

    private boolean lease(Map<String, AttributeValue> entry, String dispatchId, String workerId) {
        try {
            dynamoDb.transactWriteItems(b -> b.transactItems(
                    TransactWriteItem.builder().delete(Delete.builder().tableName(table)
                            .key(Map.of("pk", entry.get("pk"), "sk", entry.get("sk")))
                            .conditionExpression("attribute_exists(pk)").build()).build(),
                    TransactWriteItem.builder().update(Update.builder().tableName(table).key(guardKey(dispatchId))
                            .updateExpression("SET #state = :leased, worker = :worker")
                            .conditionExpression("#state = :queued")
                            .expressionAttributeNames(Map.of("#state", "state"))
                            .expressionAttributeValues(Map.of(":leased", s(LEASED), ":queued", s(QUEUED),
                                    ":worker", s(workerId))).build()).build()));
            return true;
        } catch (TransactionCanceledException takenOrCancelled) {
            return false;
        }
    }

    /**
     * Whether this worker of this organization holds the attempt; its reports are accepted only then. Attempts queued
     * before tenancy belong to the default organization.
     */
    public boolean holds(OrgId org, String dispatchId, String workerId) {
        if ((org.value() + "#" + workerId).equals(leasedHere.get(dispatchId))) {
            return true; // leased here: a guard's holder never changes once leased
        }
        var guard = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(guardKey(dispatchId))).item();
        return guard != null && guard.containsKey("worker") && workerId.equals(guard.get("worker").s())
                && org.value().equals(guard.containsKey("org") ? guard.get("org").s() : OrgId.DEFAULT.value())
                && (LEASED.equals(guard.get("state").s()) || CANCEL_REQUESTED.equals(guard.get("state").s()));
    }

    /** Records a heartbeat; answers whether the attempt was cancelled and the worker should stop. */
    public boolean heartbeat(String dispatchId) {
        reports.heartbeat(dispatchId);
        var guard = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(guardKey(dispatchId))).item();
        return guard != null && CANCEL_REQUESTED.equals(guard.get("state").s());
    }

    public void complete(String dispatchId, Map<String, Object> output) {
        requireFits(json.writeValueAsBytes(output).length);
        reports.succeeded(dispatchId, output);
    }

    public void fail(String dispatchId, String errorKind, String message) {
        requireFits(message.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + errorKind.length());
        reports.failed(dispatchId, errorKind, message);
    }

    private static void requireFits(int bytes) {
        if (bytes > ReportTooLargeException.MAX_BYTES) {
            throw new ReportTooLargeException(bytes);
        }
    }

    /** A queued attempt is withdrawn; a leased one is marked so the worker's next heartbeat tells it to stop. */
    @Override
    public void cancel(String dispatchId) {
        var guard = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(guardKey(dispatchId))).item();
        if (guard == null || guard.isEmpty()) {
            return;
        }
        try {
            if (QUEUED.equals(guard.get("state").s())) {
                dynamoDb.transactWriteItems(b -> b.transactItems(
                        TransactWriteItem.builder().delete(Delete.builder().tableName(table)
                                .key(key(partitionOf(guard), guard.get("entry").s())).build()).build(),
                        TransactWriteItem.builder().update(stateUpdate(dispatchId, QUEUED, CANCEL_REQUESTED)).build()));
            } else if (LEASED.equals(guard.get("state").s())) {
                dynamoDb.updateItem(b -> b.tableName(table).key(guardKey(dispatchId))
                        .updateExpression("SET #state = :to").conditionExpression("#state = :from")
                        .expressionAttributeNames(Map.of("#state", "state"))
                        .expressionAttributeValues(Map.of(":to", s(CANCEL_REQUESTED), ":from", s(LEASED))));
            }
        } catch (TransactionCanceledException | ConditionalCheckFailedException moved) {
            // leased or finished meanwhile: the next heartbeat or the timeout settles it
        }
    }

    /** The queue partition a guard names; guards written before tenancy hold the bare queue name. */
    private static String partitionOf(Map<String, AttributeValue> guard) {
        String queue = guard.get("queue").s();
        return queue.startsWith("worker-queue#") ? queue : "worker-queue#" + queue;
    }

    private Update stateUpdate(String dispatchId, String from, String to) {
        return Update.builder().tableName(table).key(guardKey(dispatchId))
                .updateExpression("SET #state = :to").conditionExpression("#state = :from")
                .expressionAttributeNames(Map.of("#state", "state"))
                .expressionAttributeValues(Map.of(":to", s(to), ":from", s(from))).build();
    }

    private static Map<String, AttributeValue> guardKey(String dispatchId) {
        return key("worker-dispatch#" + dispatchId, "dispatch");
    }

    private static Map<String, AttributeValue> key(String pk, String sk) {
        return Map.of("pk", s(pk), "sk", s(sk));
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }
}
