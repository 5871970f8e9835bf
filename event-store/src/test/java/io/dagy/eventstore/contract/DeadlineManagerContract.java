package io.dagy.eventstore.contract;

import io.dagy.eventstore.support.RecordingSpanFactory;
import io.dagy.eventstore.support.RecordingSpanFactory.RecordedSpan;
import io.dagy.eventstore.support.TestSerializer;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.common.AxonNonTransientException;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.Configuration;
import org.axonframework.config.Configurer;
import org.axonframework.config.DefaultConfigurer;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.deadline.GenericDeadlineMessage;
import org.axonframework.deadline.annotation.DeadlineHandler;
import org.axonframework.eventhandling.EventBus;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.correlation.MessageOriginProvider;
import org.axonframework.messaging.correlation.SimpleCorrelationDataProvider;
import org.axonframework.messaging.interceptors.CorrelationDataInterceptor;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.TargetAggregateIdentifier;
import org.axonframework.modelling.saga.AssociationValue;
import org.axonframework.modelling.saga.EndSaga;
import org.axonframework.modelling.saga.SagaEventHandler;
import org.axonframework.modelling.saga.StartSaga;
import org.axonframework.modelling.saga.repository.SagaStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.axonframework.modelling.command.AggregateLifecycle.apply;
import static org.awaitility.Awaitility.await;

/**
 * What Axon's {@code DeadlineManager} contract promises, written for Dagy from the cases of Axon's
 * {@code AbstractDeadlineManagerTestSuite} (4.13.0): deadlines of aggregates and sagas fire, cancel, carry
 * correlation data, pass the interceptors, and are traced through Axon's {@code DeadlineManagerSpanFactory}. A manager
 * under test extends this class and provides the storage the harness runs on.
 *
 * <p>No case waits for time to pass to show that something did <i>not</i> happen: a deadline that must not fire is
 * checked after a later deadline of the same scope did fire.
 */
public abstract class DeadlineManagerContract {

    protected static final Duration SOON = Duration.ofMillis(300);
    protected static final Duration LATER = Duration.ofMillis(700);
    private static final Duration FIRE_TIMEOUT = Duration.ofSeconds(20);
    private static final String CUSTOM_CORRELATION = "custom-correlation";

    protected abstract EventStorageEngine storageEngine();

    protected abstract SagaStore<Object> sagaStore();

    protected abstract TransactionManager transactionManager();

    /** The manager under test, built from the harness's configuration (its span factory, scopes, transactions). */
    protected abstract DeadlineManager buildDeadlineManager(Configuration configuration);

    /** Starts the manager if it does not start on its own. */
    protected void started(DeadlineManager manager) {
    }

    protected final RecordingSpanFactory spans = new RecordingSpanFactory();
    protected final Queue<EventMessage<?>> published = new ConcurrentLinkedQueue<>();
    protected Configuration configuration;
    protected DeadlineManager deadlines;

    @BeforeEach
    void startApplication() {
        Configurer configurer = DefaultConfigurer.defaultConfiguration(false)
                .configureSpanFactory(c -> spans)
                .configureSerializer(c -> TestSerializer.jackson())
                .configureEmbeddedEventStore(c -> storageEngine())
                .configureTransactionManager(c -> transactionManager())
                .configureCorrelationDataProviders(c -> List.of(new MessageOriginProvider(),
                        new SimpleCorrelationDataProvider(CUSTOM_CORRELATION)))
                .configureAggregate(Order.class)
                .registerComponent(DeadlineManager.class, c -> {
                    DeadlineManager manager = buildDeadlineManager(c);
                    manager.registerHandlerInterceptor(new CorrelationDataInterceptor<>(c.correlationDataProviders()));
                    return manager;
                });
        configurer.eventProcessing().usingSubscribingEventProcessors()
                .registerSaga(Reminders.class, saga -> saga.configureSagaStore(c -> sagaStore()));
        configuration = configurer.start();
        configuration.eventBus().subscribe(events -> published.addAll(events));
        deadlines = configuration.deadlineManager();
        started(deadlines);
    }

    @AfterEach
    void stopApplication() {
        configuration.shutdown();
    }

    // ------------------------------------------------------------------------------------------ helpers

    protected <R> R send(Object command) {
        return configuration.commandGateway().sendAndWait(command);
    }

    private void publish(Object event) {
        configuration.eventBus().publish(GenericEventMessage.asEventMessage(event));
    }

    protected String scheduleOn(String order, String name, String note, Duration in) {
        return send(new ScheduleDeadline(order, name, note, in.toMillis()));
    }

    private List<Object> payloads() {
        return published.stream().<Object>map(EventMessage::getPayload).toList();
    }

    protected List<Fired> fired() {
        return published.stream().filter(e -> e.getPayload() instanceof Fired).map(e -> (Fired) e.getPayload()).toList();
    }

    protected EventMessage<?> awaitFired(String order, String name, String note) {
        Fired expected = new Fired(order, name, note);
        await().atMost(FIRE_TIMEOUT).until(() -> fired().contains(expected));
        return published.stream().filter(e -> expected.equals(e.getPayload())).findFirst().orElseThrow();
    }

    private RecordedSpan awaitSpan(String name) {
        await().atMost(FIRE_TIMEOUT).until(() -> !spans.ended(name).isEmpty());
        return spans.ended(name).get(0);
    }

    private boolean sagaLives(String order) {
        return !sagaStore().findSagas(Reminders.class, new AssociationValue("orderId", order)).isEmpty();
    }

    // ------------------------------------------------------------------------------------------ aggregates

    @Test
    void anAggregatesDeadlineFiresAtItsTimeIntoTheAggregate() {
        send(new OpenOrder("order-1"));
        Instant before = Instant.now();

        scheduleOn("order-1", "expiry", "pay", SOON);

        EventMessage<?> fired = awaitFired("order-1", "expiry", "pay");
        assertThat(fired.getTimestamp()).isAfterOrEqualTo(before.plus(SOON));
        assertThat(fired()).hasSize(1);
    }

    @Test
    void aDeadlineDueInThePastFiresAtOnce() {
        send(new OpenOrder("order-1"));

        scheduleOn("order-1", "expiry", "late", Duration.ofSeconds(-10));

        awaitFired("order-1", "expiry", "late");
    }

    @Test
    void aDeadlineWithoutPayloadFires() {
        send(new OpenOrder("order-1"));

        scheduleOn("order-1", "bare", null, SOON);

        awaitFired("order-1", "bare", null);
    }

    @Test
    void schedulingAndFiringAreTracedUnderTheScheduleIdAndTheFiringLinksToTheSchedulingTrace() {
        send(new OpenOrder("order-1"));

        String id = scheduleOn("order-1", "expiry", "pay", SOON);

        awaitFired("order-1", "expiry", "pay");
        RecordedSpan schedule = awaitSpan("DeadlineManager.scheduleDeadline(expiry)");
        RecordedSpan execute = awaitSpan("DeadlineManager.executeDeadline(expiry)");
        assertThat(schedule.attributes()).containsEntry("axon.deadlineId", id);
        assertThat(execute.attributes()).containsEntry("axon.deadlineId", id);
        assertThat(execute.linkedTo()).as("the firing's span links to the span that scheduled it").isEqualTo(schedule.id());
        assertThat(execute.exceptions()).isEmpty();
    }

    @Test
    void aCancelledDeadlineNeverFiresAndItsCancelIsTraced() {
        send(new OpenOrder("order-1"));
        String cancelled = scheduleOn("order-1", "expiry", "cancelled", SOON);
        scheduleOn("order-1", "expiry", "kept", LATER);

        send(new CancelSchedule("order-1", "expiry", cancelled));
        send(new CancelSchedule("order-1", "expiry", cancelled));

        awaitFired("order-1", "expiry", "kept");
        assertThat(fired()).extracting(Fired::note).containsExactly("kept");
        assertThat(awaitSpan("DeadlineManager.cancelDeadline(expiry)").attributes())
                .containsEntry("axon.deadlineId", cancelled);
    }

    @Test
    void cancelAllCancelsEveryDeadlineOfThatNameInEveryScopeAndIsTraced() {
        send(new OpenOrder("order-1"));
        send(new OpenOrder("order-2"));
        scheduleOn("order-1", "expiry", "one", SOON);
        scheduleOn("order-2", "expiry", "two", SOON);
        scheduleOn("order-1", "note", "other name", LATER);

        send(new CancelAll("order-1", "expiry"));

        awaitFired("order-1", "note", "other name");
        assertThat(fired()).extracting(Fired::note).containsExactly("other name");
        awaitSpan("DeadlineManager.cancelAllDeadlines(expiry)");
    }

    @Test
    void cancelAllWithinScopeCancelsOnlyThatScopesDeadlinesOfThatNameAndIsTraced() {
        send(new OpenOrder("order-1"));
        send(new OpenOrder("order-2"));
        scheduleOn("order-1", "expiry", "mine", SOON);
        scheduleOn("order-1", "expiry", "mine too", SOON);
        scheduleOn("order-2", "expiry", "other scope", LATER);
        scheduleOn("order-1", "note", "other name", LATER);

        send(new CancelWithinScope("order-1", "expiry"));

        awaitFired("order-2", "expiry", "other scope");
        awaitFired("order-1", "note", "other name");
        assertThat(fired()).extracting(Fired::note).containsExactlyInAnyOrder("other scope", "other name");
        assertThat(awaitSpan("DeadlineManager.cancelAllWithinScope(expiry)").attributes())
                .containsKey("axon.deadlineScope");
    }

    @Test
    void handlerInterceptorsWrapTheFiring() {
        deadlines.registerHandlerInterceptor((unitOfWork, chain) -> {
            unitOfWork.transformMessage(m -> GenericDeadlineMessage.asDeadlineMessage(m.getDeadlineName(),
                    "intercepted", m.getTimestamp()));
            return chain.proceed();
        });
        send(new OpenOrder("order-1"));

        scheduleOn("order-1", "note", "original", SOON);

        awaitFired("order-1", "note", "intercepted");
    }

    @Test
    void dispatchInterceptorsShapeTheScheduledDeadline() {
        deadlines.registerDispatchInterceptor(messages -> (i, m) -> GenericDeadlineMessage.asDeadlineMessage(
                m.getDeadlineName(), "dispatched", m.getTimestamp()));
        send(new OpenOrder("order-1"));

        scheduleOn("order-1", "note", "original", SOON);

        awaitFired("order-1", "note", "dispatched");
    }

    @Test
    void theCorrelationDataOfTheSchedulingMessageReachesWhatTheFiringPublishes() {
        send(new OpenOrder("order-1"));

        configuration.commandGateway().sendAndWait(GenericCommandMessage.asCommandMessage(
                new ScheduleDeadline("order-1", "note", "correlated", SOON.toMillis()))
                .andMetaData(Map.of(CUSTOM_CORRELATION, "value-1")));

        EventMessage<?> fired = awaitFired("order-1", "note", "correlated");
        assertThat(fired.getMetaData()).containsEntry(CUSTOM_CORRELATION, "value-1");
    }

    @Test
    void aFiringThatFailsPublishesNothingAndItsSpanRecordsTheFailure() {
        AtomicInteger firings = new AtomicInteger();
        deadlines.registerHandlerInterceptor((unitOfWork, chain) -> {
            chain.proceed();
            if ("doomed".equals(unitOfWork.getMessage().getPayload())) {
                firings.incrementAndGet();
                throw new AxonNonTransientException("the handler fails after it applied its event") {
                };
            }
            return null;
        });
        send(new OpenOrder("order-1"));

        scheduleOn("order-1", "note", "doomed", Duration.ZERO);
        scheduleOn("order-1", "note", "fine", SOON);

        awaitFired("order-1", "note", "fine");
        await().atMost(FIRE_TIMEOUT).until(() -> firings.get() >= 1);
        assertThat(fired()).extracting(Fired::note).containsExactly("fine");
        RecordedSpan failed = spans.ended("DeadlineManager.executeDeadline(note)").stream()
                .filter(s -> !s.exceptions().isEmpty()).findFirst().orElseThrow();
        assertThat(failed.exceptions()).isNotEmpty();
    }

    // ------------------------------------------------------------------------------------------ sagas

    @Test
    void aSagasDeadlineFiresIntoTheSagaWhichStaysAlive() {
        publish(new OrderPlaced("order-1"));

        publish(new ReminderRequested("order-1", "remind", "call", SOON.toMillis(), false));

        await().atMost(FIRE_TIMEOUT).until(() -> published.stream().anyMatch(
                e -> new Reminded("order-1", "call").equals(e.getPayload())));
        assertThat(sagaLives("order-1")).isTrue();
    }

    @Test
    void aSagaCancellingItsDeadlineKeepsItFromFiringAndTheCancelIsTraced() {
        publish(new OrderPlaced("order-1"));

        publish(new ReminderRequested("order-1", "remind", "cancelled", SOON.toMillis(), true));
        publish(new ReminderRequested("order-1", "remind", "kept", LATER.toMillis(), false));

        await().atMost(FIRE_TIMEOUT).until(() -> published.stream().anyMatch(
                e -> new Reminded("order-1", "kept").equals(e.getPayload())));
        assertThat(payloads()).doesNotContain(new Reminded("order-1", "cancelled"));
        awaitSpan("DeadlineManager.cancelDeadline(remind)");
    }

    @Test
    void aSagaCancellingAllItsDeadlinesOfANameLeavesOtherSagasAndNamesAndIsTraced() {
        publish(new OrderPlaced("order-1"));
        publish(new OrderPlaced("order-2"));
        publish(new ReminderRequested("order-1", "remind", "mine", SOON.toMillis(), false));
        publish(new ReminderRequested("order-2", "remind", "other saga", LATER.toMillis(), false));

        publish(new RemindersCancelled("order-1", "remind"));
        publish(new ReminderRequested("order-1", "remind", "after the cancel", LATER.toMillis(), false));

        await().atMost(FIRE_TIMEOUT).until(() -> published.stream().filter(e -> e.getPayload() instanceof Reminded)
                .count() == 2);
        assertThat(payloads()).contains(new Reminded("order-2", "other saga"),
                new Reminded("order-1", "after the cancel")).doesNotContain(new Reminded("order-1", "mine"));
        awaitSpan("DeadlineManager.cancelAllWithinScope(remind)");
    }

    @Test
    void aDeadlineHandlerThatEndsTheSagaEndsIt() {
        publish(new OrderPlaced("order-1"));
        assertThat(sagaLives("order-1")).isTrue();

        publish(new ReminderRequested("order-1", "end", "bye", SOON.toMillis(), false));

        await().atMost(FIRE_TIMEOUT).until(() -> published.stream().anyMatch(
                e -> new Reminded("order-1", "ended").equals(e.getPayload())));
        await().atMost(FIRE_TIMEOUT).until(() -> !sagaLives("order-1"));
    }

    // ------------------------------------------------------------------------------------------ the test domain

    public record OpenOrder(String orderId) {
    }

    public record ScheduleDeadline(@TargetAggregateIdentifier String orderId, String name, String note, long inMillis) {
    }

    public record CancelSchedule(@TargetAggregateIdentifier String orderId, String name, String scheduleId) {
    }

    public record CancelAll(@TargetAggregateIdentifier String orderId, String name) {
    }

    public record CancelWithinScope(@TargetAggregateIdentifier String orderId, String name) {
    }

    public record OrderOpened(String orderId) {
    }

    /** What an aggregate applies when one of its deadlines fires. */
    public record Fired(String orderId, String name, String note) {
    }

    public record OrderPlaced(String orderId) {
    }

    public record ReminderRequested(String orderId, String name, String note, long inMillis, boolean cancelAtOnce) {
    }

    public record RemindersCancelled(String orderId, String name) {
    }

    public record Reminded(String orderId, String note) {
    }

    /** An event-sourced aggregate whose command handlers schedule and cancel its deadlines. */
    public static class Order {

        @AggregateIdentifier
        private String orderId;

        public Order() {
        }

        @CommandHandler
        public Order(OpenOrder command) {
            apply(new OrderOpened(command.orderId()));
        }

        @CommandHandler
        public String handle(ScheduleDeadline command, DeadlineManager deadlines) {
            return deadlines.schedule(Duration.ofMillis(command.inMillis()), command.name(), command.note());
        }

        @CommandHandler
        public void handle(CancelSchedule command, DeadlineManager deadlines) {
            deadlines.cancelSchedule(command.name(), command.scheduleId());
        }

        @CommandHandler
        public void handle(CancelAll command, DeadlineManager deadlines) {
            deadlines.cancelAll(command.name());
        }

        @CommandHandler
        public void handle(CancelWithinScope command, DeadlineManager deadlines) {
            deadlines.cancelAllWithinScope(command.name());
        }

        @DeadlineHandler(deadlineName = "expiry")
        public void onExpiry(String note) {
            apply(new Fired(orderId, "expiry", note));
        }

        @DeadlineHandler(deadlineName = "note")
        public void onNote(String note, @Timestamp Instant at) {
            apply(new Fired(orderId, "note", note));
        }

        @DeadlineHandler(deadlineName = "bare")
        public void onBare() {
            apply(new Fired(orderId, "bare", null));
        }

        @EventSourcingHandler
        void on(OrderOpened event) {
            orderId = event.orderId();
        }
    }

    /** A saga whose handlers schedule and cancel its deadlines; its deadline handlers publish what fired. */
    public static class Reminders {

        private String orderId;

        @StartSaga
        @SagaEventHandler(associationProperty = "orderId")
        public void on(OrderPlaced event) {
            orderId = event.orderId();
        }

        @SagaEventHandler(associationProperty = "orderId")
        public void on(ReminderRequested event, DeadlineManager deadlines) {
            String id = deadlines.schedule(Duration.ofMillis(event.inMillis()), event.name(), event.note());
            if (event.cancelAtOnce()) {
                deadlines.cancelSchedule(event.name(), id);
            }
        }

        @SagaEventHandler(associationProperty = "orderId")
        public void on(RemindersCancelled event, DeadlineManager deadlines) {
            deadlines.cancelAllWithinScope(event.name());
        }

        @DeadlineHandler(deadlineName = "remind")
        public void remind(String note, EventBus events) {
            events.publish(GenericEventMessage.asEventMessage(new Reminded(orderId, note)));
        }

        @EndSaga
        @DeadlineHandler(deadlineName = "end")
        public void end(String note, EventBus events) {
            events.publish(GenericEventMessage.asEventMessage(new Reminded(orderId, "ended")));
        }
    }
}
