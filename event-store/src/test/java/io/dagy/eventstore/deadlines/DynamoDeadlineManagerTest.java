package io.dagy.eventstore.deadlines;

import io.dagy.eventstore.support.ConflictInjector;
import io.dagy.eventstore.support.TestTables;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.deadline.DeadlineMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.messaging.GenericMessage;
import org.axonframework.messaging.Message;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.ScopeAware;
import org.axonframework.messaging.ScopeAwareProvider;
import org.axonframework.messaging.ScopeDescriptor;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.axonframework.modelling.saga.SagaScopeDescriptor;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.jackson3.Jackson3Serializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static io.dagy.eventstore.deadlines.DeadlineItems.LEASE_OWNER;
import static io.dagy.eventstore.deadlines.DeadlineItems.LEASE_UNTIL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class DynamoDeadlineManagerTest {

    private static final DynamoDbClient dynamoDb =
            LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint());
    private static final Serializer serializer = Jackson3Serializer.builder().build();
    private static final Duration POLL = Duration.ofMillis(50);
    private static final Duration FIRE_TIMEOUT = Duration.ofSeconds(10);

    private final List<DynamoDeadlineManager> managers = new ArrayList<>();
    private final DynamoTransactionManager transactions = new DynamoTransactionManager(dynamoDb);
    private String table;

    @BeforeEach
    void createTable() {
        table = DagyTable.DEADLINES.defaultName("deadlines-" + UUID.randomUUID().toString().substring(0, 8));
        new TableBootstrap(dynamoDb).createMissing(Map.of(DagyTable.DEADLINES, table));
    }

    @AfterEach
    void stopManagers() {
        managers.forEach(DynamoDeadlineManager::shutdown);
    }

    @Test
    void aScheduledDeadlineFiresOnceWithItsPayloadNameMetadataAndOriginalMessageId() {
        Recorder recorder = new Recorder();
        DynamoDeadlineManager manager = manager("node-a", recorder);
        Instant due = Instant.now().plusMillis(300);
        Message<Reminder> original = new GenericMessage<>(new Reminder("pay"), MetaData.with("tenant", "t-1"));

        manager.schedule(due, "payment-due", original, new TestScope("order-1"));

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.received.size() == 1);
        Received fired = recorder.received.peek();
        assertThat(fired.message().getDeadlineName()).isEqualTo("payment-due");
        assertThat(fired.message().getPayload()).isEqualTo(new Reminder("pay"));
        assertThat(fired.message().getIdentifier()).isEqualTo(original.getIdentifier());
        assertThat(fired.message().getMetaData()).containsEntry("tenant", "t-1");
        assertThat(fired.message().getTimestamp()).isEqualTo(due);
        assertThat(fired.scope()).isEqualTo(new TestScope("order-1"));
        assertThat(fired.at()).isAfterOrEqualTo(due);
        await().atMost(FIRE_TIMEOUT).until(() -> items().isEmpty());
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                .until(() -> recorder.received.size() == 1);
    }

    @Test
    void dispatchInterceptorsShapeTheStoredDeadlineAndHandlerInterceptorsWrapItsFiring() {
        Recorder recorder = new Recorder();
        DynamoDeadlineManager manager = manager("node-a", recorder);
        manager.registerDispatchInterceptor(messages -> (i, m) -> m.andMetaData(Map.of("traceId", "trace-1")));
        Queue<String> intercepted = new ConcurrentLinkedQueue<>();
        manager.registerHandlerInterceptor((unitOfWork, chain) -> {
            intercepted.add(unitOfWork.getMessage().getDeadlineName());
            return chain.proceed();
        });

        manager.schedule(Instant.now(), "reminder", new Reminder("traced"), new TestScope("order-1"));

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.received.size() == 1);
        assertThat(recorder.received.peek().message().getMetaData()).containsEntry("traceId", "trace-1");
        assertThat(intercepted).containsExactly("reminder");
    }

    @Test
    void aDeadlineCancelledBeforeItIsDueNeverFires() {
        Recorder recorder = new Recorder();
        DynamoDeadlineManager manager = manager("node-a", recorder);
        TestScope scope = new TestScope("order-1");
        String cancelled = manager.schedule(Instant.now().plusMillis(200), "reminder", new Reminder("cancelled"), scope);
        manager.schedule(Instant.now().plusMillis(400), "reminder", new Reminder("kept"), scope);

        manager.cancelSchedule("reminder", cancelled);

        assertThat(items()).extracting(i -> i.get("sk").s()).noneMatch(sk -> sk.endsWith(cancelled));
        await().atMost(FIRE_TIMEOUT).until(() -> recorder.payloads().contains(new Reminder("kept")));
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                .until(() -> recorder.payloads().equals(List.of(new Reminder("kept"))));
    }

    @Test
    void cancelAllCancelsEveryDeadlineOfThatNameAndNoOther() {
        Recorder recorder = new Recorder();
        DynamoDeadlineManager manager = manager("node-a", recorder);
        Instant due = Instant.now().plusMillis(300);
        manager.schedule(due, "expire", new Reminder("expire-1"), new TestScope("order-1"));
        manager.schedule(due, "expire", new Reminder("expire-2"), new TestScope("order-2"));
        manager.schedule(due.plusMillis(100), "remind", new Reminder("remind-1"), new TestScope("order-1"));

        manager.cancelAll("expire");

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.payloads().contains(new Reminder("remind-1")));
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                .until(() -> recorder.payloads().equals(List.of(new Reminder("remind-1"))));
        await().atMost(FIRE_TIMEOUT).until(() -> items().isEmpty());
    }

    @Test
    void cancelAllWithinScopeCancelsOnlyThatNameInThatScope() {
        Recorder recorder = new Recorder();
        DynamoDeadlineManager manager = manager("node-a", recorder);
        Instant due = Instant.now().plusMillis(300);
        manager.schedule(due, "expire", new Reminder("expire-order-1"), new TestScope("order-1"));
        manager.schedule(due, "expire", new Reminder("expire-order-2"), new TestScope("order-2"));
        manager.schedule(due, "remind", new Reminder("remind-order-1"), new TestScope("order-1"));

        manager.cancelAllWithinScope("expire", new TestScope("order-1"));

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.received.size() == 2);
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> recorder.received.size() == 2);
        assertThat(recorder.payloads())
                .containsExactlyInAnyOrder(new Reminder("expire-order-2"), new Reminder("remind-order-1"));
    }

    @Test
    void aDeadlineScheduledBeforeARestartFiresFromTheNewManager() {
        Recorder before = new Recorder();
        DynamoDeadlineManager first = manager("node-a", before);
        first.schedule(Instant.now().plusMillis(800), "reminder", new Reminder("survives"), new TestScope("order-1"));
        first.shutdown();

        Recorder after = new Recorder();
        manager("node-a", after).start();

        await().atMost(FIRE_TIMEOUT).until(() -> after.payloads().equals(List.of(new Reminder("survives"))));
        assertThat(before.received).isEmpty();
    }

    /**
     * The sweep of every shard runs once a minute here: a deadline this node scheduled still fires on time (the poller
     * wakes for it and looks at its shard), which is what lets an idle node sweep rarely.
     */
    @Test
    void aDeadlineThisNodeScheduledFiresOnTimeBetweenSweeps() {
        Recorder recorder = new Recorder();
        DynamoDeadlineManager manager = manager("node-a", recorder, b -> b.pollInterval(Duration.ofMinutes(1)));
        manager.start();
        await().pollDelay(Duration.ofMillis(300)).until(() -> true); // the first sweep (at start) is over

        Instant due = Instant.now().plusMillis(500);
        manager.schedule(due, "reminder", new Reminder("on time"), new TestScope("order-1"));

        await().atMost(Duration.ofSeconds(5)).until(() -> recorder.received.size() == 1);
        assertThat(recorder.received.peek().at()).isAfterOrEqualTo(due).isBefore(due.plusSeconds(3));
    }

    /** Another node's deadline (its node gone) is found by the sweep, not before: the sweep is what takes over. */
    @Test
    void anotherNodesDeadlineFiresAtTheNextSweep() {
        DynamoDeadlineManager gone = manager("node-gone", new Recorder(), b -> b.startOnFirstSchedule(false));
        Recorder survivor = new Recorder();
        DynamoDeadlineManager alive = manager("node-alive", survivor, b -> b.pollInterval(Duration.ofSeconds(3)));
        alive.start();
        await().pollDelay(Duration.ofMillis(300)).until(() -> true);

        gone.schedule(Instant.now(), "reminder", new Reminder("orphan"), new TestScope("order-1"));
        Instant scheduled = Instant.now();

        await().atMost(Duration.ofSeconds(10)).until(() -> survivor.received.size() == 1);
        assertThat(survivor.received.peek().at()).isAfter(scheduled.plusMillis(1500));
    }

    @Test
    void twoNodesOnOneTableFireEachOfFiftyDeadlinesExactlyOnce() {
        Recorder onA = new Recorder();
        Recorder onB = new Recorder();
        DynamoDeadlineManager a = manager("node-a", onA);
        DynamoDeadlineManager b = manager("node-b", onB);
        a.start();
        b.start();
        Instant base = Instant.now().plusMillis(300);
        List<Reminder> scheduled = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            Reminder reminder = new Reminder("r-" + i);
            scheduled.add(reminder);
            (i % 2 == 0 ? a : b).schedule(base.plusMillis(10L * i), "reminder", reminder, new TestScope("s-" + i));
        }

        await().atMost(Duration.ofSeconds(15)).until(() -> onA.received.size() + onB.received.size() >= 50);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                .until(() -> onA.received.size() + onB.received.size() == 50);
        List<Object> fired = new ArrayList<>(onA.payloads());
        fired.addAll(onB.payloads());
        assertThat(fired).containsExactlyInAnyOrderElementsOf(scheduled);
        await().atMost(FIRE_TIMEOUT).until(() -> items().isEmpty());
    }

    @Test
    void aDeadlineClaimedByANodeThatDiedFiresAfterItsLeaseExpires() {
        DynamoDeadlineManager dead = manager("node-dead", new Recorder(), b -> b.startOnFirstSchedule(false));
        String id = dead.schedule(Instant.now(), "reminder", new Reminder("orphan"), new TestScope("order-1"));
        Instant leaseUntil = Instant.now().plusMillis(1500);
        dynamoDb.updateItem(b -> b.tableName(table).key(DeadlineItems.dueKey(ScheduleId.parse(id).orElseThrow()))
                .updateExpression("SET " + LEASE_OWNER + " = :owner, " + LEASE_UNTIL + " = :until")
                .expressionAttributeValues(Map.of(":owner", AttributeValue.fromS("node-dead"),
                        ":until", AttributeValue.fromN(Long.toString(leaseUntil.toEpochMilli())))));

        Recorder survivor = new Recorder();
        manager("node-alive", survivor).start();

        await().atMost(FIRE_TIMEOUT).until(() -> survivor.received.size() == 1);
        assertThat(survivor.received.peek().at()).isAfterOrEqualTo(leaseUntil);
        await().atMost(FIRE_TIMEOUT).until(() -> items().isEmpty());
    }

    @Test
    void aFailingHandlerMakesTheDeadlineFireAgainAfterItsLeaseThenItIsDeleted() {
        Recorder recorder = new Recorder();
        recorder.failuresLeft.set(1);
        DynamoDeadlineManager manager = manager("node-a", recorder, transactions,
                b -> b.claimLease(Duration.ofMillis(500)));

        manager.schedule(Instant.now(), "reminder", new Reminder("retry"), new TestScope("order-1"));

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.received.size() == 2);
        assertThat(recorder.received.stream().map(r -> r.message().getIdentifier()).distinct()).hasSize(1);
        await().atMost(FIRE_TIMEOUT).until(() -> items().isEmpty());
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> recorder.received.size() == 2);
    }

    @Test
    void aFiredDeadlineIsAlsoDeletedWhenTheTransactionManagerIsNotDynamoDbs() {
        Recorder recorder = new Recorder();
        DynamoDeadlineManager manager = manager("node-a", recorder, NoTransactionManager.INSTANCE, b -> b);

        manager.schedule(Instant.now(), "reminder", new Reminder("plain"), new TestScope("order-1"));

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.received.size() == 1);
        await().atMost(FIRE_TIMEOUT).until(() -> items().isEmpty());
    }

    @Test
    void aSagaScopeDescriptorSurvivesTheRoundTripThroughJackson3() {
        Recorder recorder = new Recorder();
        DynamoDeadlineManager manager = manager("node-a", recorder);
        SagaScopeDescriptor saga = new SagaScopeDescriptor("PaymentSaga", "saga-7");

        manager.schedule(Instant.now(), "timeout", null, saga);

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.received.size() == 1);
        assertThat(recorder.received.peek().scope()).isEqualTo(saga);
        assertThat(recorder.received.peek().message().getPayload()).isNull();
    }

    @Test
    void schedulingInsideAUnitOfWorkWithADynamoTransactionWritesNothingUntilCommit() {
        DynamoDeadlineManager manager = manager("node-a", new Recorder(), b -> b.startOnFirstSchedule(false));
        UnitOfWork<?> unitOfWork = DefaultUnitOfWork.startAndGet(GenericEventMessage.asEventMessage("order placed"));
        unitOfWork.attachTransaction(transactions);

        String id = manager.schedule(Instant.now().plus(1, ChronoUnit.HOURS), "expire", null, new TestScope("o-1"));

        assertThat(items()).isEmpty();
        unitOfWork.commit();
        assertThat(items()).extracting(i -> i.get("pk").s() + " " + i.get("sk").s()).containsExactlyInAnyOrder(
                DeadlineItems.dueKey(ScheduleId.parse(id).orElseThrow()).get("pk").s() + " "
                        + DeadlineItems.dueKey(ScheduleId.parse(id).orElseThrow()).get("sk").s(),
                "name#expire " + id,
                "scope#expire#" + ScheduleId.parse(id).orElseThrow().scopeKey() + " " + id);
    }

    @Test
    void schedulingInsideARolledBackDynamoTransactionWritesNothing() {
        DynamoDeadlineManager manager = manager("node-a", new Recorder(), b -> b.startOnFirstSchedule(false));
        Transaction transaction = transactions.startTransaction();

        manager.schedule(Instant.now(), "expire", new Reminder("never"), new TestScope("o-1"));
        transaction.rollback();

        assertThat(items()).isEmpty();
    }

    @Test
    void cancelAllInsideATransactionAlsoCancelsWhatThatTransactionScheduled() {
        DynamoDeadlineManager manager = manager("node-a", new Recorder(), b -> b.startOnFirstSchedule(false));
        Instant later = Instant.now().plus(1, ChronoUnit.HOURS);
        manager.schedule(later, "expire", null, new TestScope("o-1"));
        manager.schedule(later, "remind", null, new TestScope("o-1"));
        Transaction transaction = transactions.startTransaction();

        manager.schedule(later, "expire", null, new TestScope("o-2"));
        manager.cancelAll("expire");
        assertThat(items()).hasSize(6);
        transaction.commit();

        assertThat(items()).extracting(i -> i.get("pk").s()).contains("name#remind").hasSize(3);
    }

    @Test
    void cancelAllOfMoreDeadlinesThanATransactionTakesDeletesThemAfterTheCommit() {
        DynamoDeadlineManager manager = manager("node-a", new Recorder(), b -> b.startOnFirstSchedule(false));
        Instant later = Instant.now().plus(1, ChronoUnit.HOURS);
        int many = DynamoDeadlineManager.JOIN_LIMIT + 30; // 120 items: more than one transaction holds
        for (int i = 0; i < many; i++) {
            manager.schedule(later, "expire", null, new TestScope("o-" + i));
        }
        Transaction transaction = transactions.startTransaction();

        manager.cancelAll("expire");
        assertThat(items()).hasSize(3 * many);
        transaction.commit();

        assertThat(items()).isEmpty();
    }

    @Test
    void idsThisManagerDidNotHandOutAreIgnoredByCancelSchedule() {
        DynamoDeadlineManager manager = manager("node-a", new Recorder(), b -> b.startOnFirstSchedule(false));
        manager.schedule(Instant.now().plus(1, ChronoUnit.HOURS), "expire", null, new TestScope("o-1"));

        manager.cancelSchedule("expire", "not-an-id");
        manager.cancelSchedule("expire", "123.9.AAAAAAAAAAAAAAAAAAAAAA.0b9a1c3e-0000-4000-8000-000000000000");

        assertThat(items()).hasSize(3);
        assertThat(ScheduleId.parse("123.9.AAAAAAAAAAAAAAAAAAAAAA.0b9a1c3e-0000-4000-8000-000000000000")).isEmpty();
    }

    @Test
    void deadlineWritesOutsideAUnitOfWorkThatConflictWithATransactionAreSentAgain() {
        ConflictInjector conflicts = ConflictInjector.on(TransactWriteItemsRequest.class, 1);
        DynamoDeadlineManager manager = manager("node-a", new Recorder(),
                b -> b.startOnFirstSchedule(false).dynamoDb(TestTables.dynamoDbWith(conflicts)));

        String id = manager.schedule(Instant.now().plus(1, ChronoUnit.HOURS), "expire", null, new TestScope("o-1"));
        assertThat(items()).hasSize(3);
        conflicts.arm(1);
        manager.cancelSchedule("expire", id);

        assertThat(conflicts.injected()).isEqualTo(2);
        assertThat(items()).isEmpty();
    }

    @Test
    void aFiredDeadlineWhoseRemovalConflictsIsStillRemovedAndFiresOnce() {
        ConflictInjector conflicts = ConflictInjector.when(request -> request instanceof TransactWriteItemsRequest t
                && t.transactItems().stream().anyMatch(item -> item.delete() != null), 1);
        Recorder recorder = new Recorder();
        DynamoDeadlineManager manager = manager("node-a", recorder, NoTransactionManager.INSTANCE,
                b -> b.dynamoDb(TestTables.dynamoDbWith(conflicts)).claimLease(Duration.ofSeconds(30)));

        manager.schedule(Instant.now(), "reminder", new Reminder("plain"), new TestScope("order-1"));

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.received.size() == 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> items().isEmpty());
        assertThat(conflicts.injected()).isEqualTo(1);
        assertThat(recorder.payloads()).containsExactly(new Reminder("plain"));
    }

    @Test
    void aDueDeadlineBehindThreeHundredLeasedOnesInItsPartitionStillFires() {
        // issue: the poller's Query applied Limit before its lease filter and read at most 10 pages, so 300 leased
        // (or failing) deadlines at the head of a partition hid every due one behind them
        Recorder recorder = new Recorder();
        DynamoDeadlineManager manager = manager("node-a", recorder, b -> b.startOnFirstSchedule(false));
        TestScope scope = new TestScope("order-1");
        var serializedScope = serializer.serialize(scope, byte[].class);
        String scopeKey = DeadlineItems.scopeKey(serializedScope);
        long past = Instant.now().minusSeconds(60).toEpochMilli();
        String farLease = Long.toString(Instant.now().plus(1, ChronoUnit.HOURS).toEpochMilli());
        List<software.amazon.awssdk.services.dynamodb.model.WriteRequest> leased = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            ScheduleId id = new ScheduleId(past + i, 3, scopeKey, UUID.randomUUID().toString());
            Map<String, AttributeValue> item = new java.util.HashMap<>(DeadlineItems.dueItem(id,
                    deadline("busy", new Reminder("leased-" + i)), serializedScope, serializer));
            item.put(LEASE_OWNER, AttributeValue.fromS("node-elsewhere"));
            item.put(LEASE_UNTIL, AttributeValue.fromN(farLease));
            leased.add(software.amazon.awssdk.services.dynamodb.model.WriteRequest.builder()
                    .putRequest(r -> r.item(item)).build());
        }
        for (int from = 0; from < leased.size(); from += 25) {
            List<software.amazon.awssdk.services.dynamodb.model.WriteRequest> chunk =
                    leased.subList(from, Math.min(leased.size(), from + 25));
            dynamoDb.batchWriteItem(b -> b.requestItems(Map.of(table, chunk)));
        }
        ScheduleId dueId = new ScheduleId(past + 1_000, 3, scopeKey, UUID.randomUUID().toString());
        dynamoDb.putItem(b -> b.tableName(table).item(DeadlineItems.dueItem(dueId,
                deadline("reminder", new Reminder("due")), serializedScope, serializer)));

        manager.start();

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.payloads().equals(List.of(new Reminder("due"))));
    }

    @Test
    void aCancelThatWinsTheRaceWithAFiringLeavesNoEventOfTheCommandsItsHandlerSent() {
        // issue: a command sent from the handler appended its events at prepare-commit, before the firing's
        // conditional removal failed on the cancel, so "the cancel wins" held for DynamoDB writes but not for events
        Queue<Object> published = new ConcurrentLinkedQueue<>();
        CommandsAndEvents axon = new CommandsAndEvents(published, () -> { });
        List<DynamoDeadlineManager> self = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        Recorder recorder = new Recorder(message -> {
            axon.gateway.sendAndWait("take payment");
            // the cancel lands on another thread (no unit of work: written at once) while this handler runs
            java.util.concurrent.CompletableFuture
                    .runAsync(() -> self.get(0).cancelSchedule("reminder", ids.get(0))).join();
        });
        DynamoDeadlineManager manager = manager("node-a", recorder, b -> b.startOnFirstSchedule(false));
        self.add(manager);
        ids.add(manager.schedule(Instant.now(), "reminder", new Reminder("race"), new TestScope("order-1")));

        manager.start();

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.received.size() == 1 && items().isEmpty());
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> recorder.received.size() == 1);
        assertThat(published).isEmpty();
    }

    @Test
    void aHandlerWhoseCommandAlwaysFailsStopsFiringAfterMaxAttemptsAndIsParked() {
        // issue: a nested command that threw made the deadline fire again every lease period, forever
        CommandsAndEvents axon = new CommandsAndEvents(new ConcurrentLinkedQueue<>(), () -> {
            throw new IllegalStateException("the payment service refuses");
        });
        Recorder recorder = new Recorder(message -> axon.gateway.sendAndWait("take payment"));
        DynamoDeadlineManager manager = manager("node-a", recorder, b -> b.startOnFirstSchedule(false)
                .claimLease(Duration.ofMillis(300)).maxAttempts(3).retryBackoff(Duration.ofMillis(50)));
        String id = manager.schedule(Instant.now(), "reminder", new Reminder("poison"), new TestScope("order-1"));

        manager.start();

        await().atMost(FIRE_TIMEOUT).until(() -> recorder.received.size() >= 3);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> recorder.received.size() == 3);
        assertThat(manager.parkedDeadlines()).singleElement().satisfies(parked -> {
            assertThat(parked.scheduleId()).isEqualTo(id);
            assertThat(parked.deadlineName()).isEqualTo("reminder");
            assertThat(parked.attempts()).isEqualTo(3);
            assertThat(parked.lastError()).contains("the payment service refuses");
        });
        assertThat(items()).extracting(i -> i.get("pk").s()).allMatch(pk -> pk.startsWith("parked"));
    }

    // ---------------------------------------------------------------------------------------------- fixtures

    private static DeadlineMessage<Object> deadline(String name, Object payload) {
        return org.axonframework.deadline.GenericDeadlineMessage.asDeadlineMessage(name, payload, Instant.now());
    }

    /** A real Axon command bus and event bus: a command's events reach subscribers at the root's prepare-commit. */
    static final class CommandsAndEvents {
        final org.axonframework.commandhandling.gateway.CommandGateway gateway;

        CommandsAndEvents(Queue<Object> published, Runnable commandEffect) {
            var eventBus = org.axonframework.eventhandling.SimpleEventBus.builder().build();
            eventBus.subscribe(events -> events.forEach(e -> published.add(e.getPayload())));
            var commandBus = org.axonframework.commandhandling.SimpleCommandBus.builder().build();
            commandBus.subscribe(String.class.getName(), command -> {
                commandEffect.run();
                eventBus.publish(GenericEventMessage.asEventMessage("payment taken"));
                return null;
            });
            gateway = org.axonframework.commandhandling.gateway.DefaultCommandGateway.builder()
                    .commandBus(commandBus).build();
        }
    }


    private DynamoDeadlineManager manager(String node, Recorder recorder) {
        return manager(node, recorder, transactions, b -> b);
    }

    private DynamoDeadlineManager manager(String node, Recorder recorder,
                                          UnaryOperator<DynamoDeadlineManager.Builder> tweak) {
        return manager(node, recorder, transactions, tweak);
    }

    private DynamoDeadlineManager manager(String node, Recorder recorder, TransactionManager transactionManager,
                                          UnaryOperator<DynamoDeadlineManager.Builder> tweak) {
        DynamoDeadlineManager manager = tweak.apply(DynamoDeadlineManager.builder()
                .dynamoDb(dynamoDb).tableName(table).scopeAwareProvider(recorder).serializer(serializer)
                .transactionManager(transactionManager).nodeId(node)
                .pollInterval(POLL).claimLease(Duration.ofSeconds(10)).batchSize(10)).build();
        managers.add(manager);
        return manager;
    }

    private List<Map<String, AttributeValue>> items() {
        return dynamoDb.scanPaginator(b -> b.tableName(table).consistentRead(true)).items().stream().toList();
    }

    record Reminder(String text) {
    }

    record TestScope(String id) implements ScopeDescriptor {
        @Override
        public String scopeDescription() {
            return "test scope " + id;
        }
    }

    record Received(DeadlineMessage<?> message, ScopeDescriptor scope, Instant at) {
    }

    /** A scope-aware component for every scope: records what it receives, and fails while told to. */
    static final class Recorder implements ScopeAwareProvider, ScopeAware {

        final Queue<Received> received = new ConcurrentLinkedQueue<>();
        final AtomicInteger failuresLeft = new AtomicInteger();
        private final java.util.function.Consumer<DeadlineMessage<?>> handler;

        Recorder() {
            this(message -> { });
        }

        Recorder(java.util.function.Consumer<DeadlineMessage<?>> handler) {
            this.handler = handler;
        }

        @Override
        public Stream<ScopeAware> provideScopeAwareStream(ScopeDescriptor scope) {
            return Stream.of(this);
        }

        @Override
        public boolean canResolve(ScopeDescriptor scope) {
            return scope instanceof TestScope || scope instanceof SagaScopeDescriptor;
        }

        @Override
        public void send(Message<?> message, ScopeDescriptor scope) {
            received.add(new Received((DeadlineMessage<?>) message, scope, Instant.now()));
            if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new IllegalStateException("the handler fails this time");
            }
            handler.accept((DeadlineMessage<?>) message);
        }

        List<Object> payloads() {
            return received.stream().<Object>map(r -> r.message().getPayload()).toList();
        }
    }
}
