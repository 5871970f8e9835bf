package io.dagy.gateway.axon;

import io.dagy.command.common.DagyRuleViolation;
import io.dagy.command.common.GroupCommitCommandBus;
import io.dagy.command.run.TaskOutcomes;
import io.dagy.eventstore.caching.LruCache;
import io.dagy.eventstore.deadlines.DynamoDeadlineManager;
import io.dagy.eventstore.events.DynamoEventStorageEngine;
import io.dagy.eventstore.events.EventStoreSettings;
import io.dagy.eventstore.processing.GatheringExecutor;
import io.dagy.eventstore.processing.ReadAheadMessageSource;
import io.dagy.eventstore.sagas.DynamoSagaStore;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.eventstore.upcasting.ContractRevisionResolver;
import io.dagy.eventstore.upcasting.TenancyUpcasters;
import io.dagy.gateway.security.MessageTenancy;
import io.dagy.gateway.settings.DagyProperties;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.saga.run.RunSequencingPolicy;
import io.dagy.tables.DagyTable;
import org.axonframework.commandhandling.CommandBus;
import org.axonframework.commandhandling.CommandBusSpanFactory;
import org.axonframework.commandhandling.DuplicateCommandHandlerResolver;
import org.axonframework.commandhandling.SimpleCommandBus;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.commandhandling.gateway.DefaultCommandGateway;
import org.axonframework.commandhandling.gateway.IntervalRetryScheduler;
import org.axonframework.common.AxonNonTransientException;
import org.axonframework.common.caching.Cache;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.ConfigurationScopeAwareProvider;
import org.axonframework.config.ConfigurerModule;
import org.axonframework.deadline.DeadlineManagerSpanFactory;
import org.axonframework.eventhandling.EventBusSpanFactory;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventsourcing.EventCountSnapshotTriggerDefinition;
import org.axonframework.eventsourcing.SnapshotTriggerDefinition;
import org.axonframework.eventsourcing.Snapshotter;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.messaging.correlation.CorrelationDataProvider;
import org.axonframework.messaging.interceptors.CorrelationDataInterceptor;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.axonframework.serialization.RevisionResolver;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.jackson3.Jackson3SerializerCustomizer;
import org.axonframework.serialization.upcasting.event.EventUpcaster;
import org.axonframework.serialization.upcasting.event.EventUpcasterChain;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.context.event.EventListener;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import tools.jackson.databind.jsontype.BasicPolymorphicTypeValidator;

import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Axon on DynamoDB: the event store, token store, saga store, deadline manager and transaction manager of the
 * {@code event-store} module, wired with the tables and settings of this node. Every streaming processor is a pooled one.
 */
@Configuration(proxyBeanMethods = false)
class AxonStorageConfiguration {

    /** The snapshot trigger aggregates name in {@code @Aggregate(snapshotTriggerDefinition = ...)}. */
    static final String SNAPSHOT_TRIGGER = "dagySnapshotTrigger";

    /** Axon's name for the processor of {@code TaskExecutionSaga}. */
    private static final String TASK_SAGA_PROCESSOR = "TaskExecutionSagaProcessor";
    /** How long a scheduled work package waits for the rest of what the coordinator is handing it. */
    private static final java.time.Duration WORK_PACKAGE_GATHER = java.time.Duration.ofMillis(1);
    /**
     * Events per transaction of the task saga processor. One event of {@code TaskExecutionSaga} writes at most 13
     * items (a failed attempt with a retry: three deadlines of three items deleted, a retry deadline's three put, the
     * saga's state), so 6 events and the token stay below DynamoDB's 100 items per transaction, and a batch never
     * commits in parts (decision 77).
     */
    static final int TASK_SAGA_BATCH_SIZE = 6;

    /** Runs kept in memory between commands at most (decision 83). */
    static final int RUN_CACHE_ENTRIES = 1024;

    /** Events a processor's stream reads ahead of the processor at most. */
    private static final int READ_AHEAD_BUFFER = 1024;

    /** Revisions of contract events come from Dagy's own {@code @Revision} (contracts depend on nothing). */
    @Bean
    RevisionResolver revisionResolver() {
        return new ContractRevisionResolver();
    }

    /** Events stored before tenancy are read as the default organization's (docs/events.md). */
    @Bean
    EventUpcaster tenancyUpcasters() {
        return new EventUpcasterChain(TenancyUpcasters.all());
    }

    /** Organization and actor travel from commands to their events, and from events to the commands they cause. */
    @Bean
    CorrelationDataProvider tenancyCorrelation() {
        return MessageTenancy.correlation();
    }

    /** Commits of this node that are ready while another is on the wire go as one transaction (decision 98). */
    @Bean
    TransactionManager axonTransactionManager(DynamoDbClient dynamoDb) {
        return new DynamoTransactionManager(dynamoDb, true);
    }

    /**
     * Jackson 3 for events, sagas, tokens and snapshots: polymorphic types only from Axon and Dagy (tokens nest inside
     * Axon's wrappers), and fields readable so sagas can keep private state.
     */
    @Bean
    Jackson3SerializerCustomizer dagyJacksonCustomizer() {
        return builder -> builder
                .polymorphicTypeValidator(BasicPolymorphicTypeValidator.builder()
                        .allowIfSubType("org.axonframework.")
                        .allowIfSubType("io.dagy.")
                        .build())
                .changeDefaultVisibility(visibility -> visibility
                        .withFieldVisibility(com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility.ANY));
    }

    @Bean
    EventStorageEngine eventStorageEngine(DynamoDbClient dynamoDb, DagyResources resources, DagyProperties properties,
                                          org.axonframework.config.Configuration axon,
                                          @Qualifier("eventSerializer") Serializer eventSerializer,
                                          Serializer serializer) {
        DagyProperties.EventStore settings = properties.eventStore();
        return DynamoEventStorageEngine.builder()
                .dynamoDb(dynamoDb)
                .tables(resources.table(DagyTable.EVENTS), resources.table(DagyTable.SNAPSHOTS))
                .settings(EventStoreSettings.defaults().withShards(settings.shards()).withGapTimeout(settings.gapTimeout()))
                // a task run lives in its run's shard: a hop's commit (outcome, decision, next task runs) reserves
                // positions once and is read back in the order it was written
                .placement(RunSequencingPolicy::runOf)
                .idleReadInterval(settings.idleReadInterval())
                // other nodes' events are looked for every poll interval, as the event store's producer polls
                .busyReadInterval(settings.pollInterval())
                .eventSerializer(eventSerializer)
                .snapshotSerializer(serializer)
                .upcasterChain(axon.upcasterChain())
                .snapshotFilter(axon.snapshotFilter())
                .build();
    }

    /**
     * The event store, polling for other nodes' events every {@code pollInterval}; local appends wake it at once. Its
     * publishing and commit spans come from Axon's {@code EventBusSpanFactory}, as for Axon's own event stores.
     */
    @Bean(name = "eventBus")
    @Primary
    EmbeddedEventStore eventStore(EventStorageEngine storageEngine, DagyProperties properties,
                                  ObjectProvider<EventBusSpanFactory> spans) {
        EmbeddedEventStore.Builder builder = EmbeddedEventStore.builder();
        spans.ifAvailable(builder::spanFactory);
        return builder
                .storageEngine(storageEngine)
                .fetchDelay(properties.eventStore().pollInterval().toMillis())
                .timeUnit(TimeUnit.MILLISECONDS)
                .build();
    }

    /**
     * The processors' coordinators, each looking for free segments every idle wait, share one scan of the token table
     * per half idle wait (decision 87).
     */
    @Bean
    DynamoTokenStore tokenStore(DynamoDbClient dynamoDb, DagyResources resources, DagyProperties properties,
                                Serializer serializer, NodeId nodeId) {
        return new DynamoTokenStore(dynamoDb, resources.table(DagyTable.TOKENS), serializer, nodeId.value(),
                properties.eventStore().claimTimeout(), Clock.systemUTC(),
                properties.eventStore().processorIdleWait().dividedBy(2));
    }

    @Bean
    DynamoSagaStore sagaStore(DynamoDbClient dynamoDb, DagyResources resources, Serializer serializer) {
        return new DynamoSagaStore(dynamoDb, resources.table(DagyTable.SAGAS), serializer);
    }

    /**
     * Deadlines persisted in DynamoDB. The poller starts when the application is ready (so deadlines due while it was
     * down fire now) and stops with the context.
     */
    @Bean(destroyMethod = "shutdown")
    DynamoDeadlineManager deadlineManager(DynamoDbClient dynamoDb, DagyResources resources, DagyProperties properties,
                                          org.axonframework.config.Configuration axon, Serializer serializer,
                                          TransactionManager transactionManager, NodeId nodeId,
                                          ObjectProvider<Clock> clock, ObjectProvider<DeadlineManagerSpanFactory> spans) {
        // a test's clock, when it has one, so that schedules' deadlines come due when the test moves time on
        DynamoDeadlineManager.Builder builder = DynamoDeadlineManager.builder();
        spans.ifAvailable(builder::spanFactory);
        return builder
                .clock(clock.getIfUnique(Clock::systemUTC))
                .dynamoDb(dynamoDb)
                .tableName(resources.table(DagyTable.DEADLINES))
                .scopeAwareProvider(new ConfigurationScopeAwareProvider(axon))
                .serializer(serializer)
                .transactionManager(transactionManager)
                .nodeId(nodeId.value())
                .pollInterval(properties.eventStore().deadlinePollInterval())
                .maxAttempts(properties.eventStore().deadlineMaxAttempts())
                .retryBackoff(properties.eventStore().deadlineRetryBackoff())
                .startOnFirstSchedule(false)
                .build();
    }

    @EventListener(ApplicationReadyEvent.class)
    void startDeadlines(ApplicationReadyEvent ready) {
        ready.getApplicationContext().getBean(DynamoDeadlineManager.class).start();
    }

    /**
     * Aggregates stay in memory between commands (the names are those of {@code @Aggregate(cache = ...)}): a run
     * takes one command per task outcome, and replaying its history each time would make a run's cost grow with the
     * square of its size. Every hit is checked against the event store's last sequence number, so an aggregate
     * another node changed is loaded afresh ({@link VersionCheckedCache}). Runs are bounded by count
     * ({@link #RUN_CACHE_ENTRIES}, more than the runs a node usually has in flight: one fewer than the runs a workload
     * cycles through makes every command a miss) and held softly, since a run of 10,000 tasks takes some 20 MB: the
     * collector clears them before the heap runs out (decision 83).
     */
    @Bean
    Cache runCache(ObjectProvider<EventStore> eventStore) {
        return new VersionCheckedCache(LruCache.softValues(RUN_CACHE_ENTRIES), eventStore::getObject);
    }

    @Bean
    Cache taskRunCache(ObjectProvider<EventStore> eventStore) {
        return new VersionCheckedCache(new LruCache(20_000), eventStore::getObject);
    }

    @Bean
    Cache deploymentCache(ObjectProvider<EventStore> eventStore) {
        return new VersionCheckedCache(new LruCache(200), eventStore::getObject);
    }

    @Bean(SNAPSHOT_TRIGGER)
    SnapshotTriggerDefinition dagySnapshotTrigger(Snapshotter snapshotter, DagyProperties properties) {
        return new EventCountSnapshotTriggerDefinition(snapshotter, properties.eventStore().snapshotThreshold());
    }

    /**
     * Axon's simple command bus as its Spring Boot configuration builds it, with group commit of a run's task outcomes
     * (decision 97).
     */
    @Bean
    @Qualifier("localSegment")
    CommandBus commandBus(TransactionManager transactionManager, org.axonframework.config.Configuration axon,
                          DuplicateCommandHandlerResolver duplicates) {
        CommandBus bus = new GroupCommitCommandBus(SimpleCommandBus.builder()
                .duplicateCommandHandlerResolver(duplicates)
                .spanFactory(axon.getComponent(CommandBusSpanFactory.class))
                .messageMonitor(axon.messageMonitor(CommandBus.class, "commandBus")),
                transactionManager, TaskOutcomes::runOf);
        bus.registerHandlerInterceptor(new CorrelationDataInterceptor<>(axon.correlationDataProviders()));
        return bus;
    }

    /**
     * The command gateway retries a command that lost an optimistic-concurrency race (Axon's transient exceptions) a
     * few times after a short pause, reloading the aggregate each time; what still conflicts becomes a 409.
     */
    @Bean(destroyMethod = "")
    CommandGateway commandGateway(CommandBus commandBus) {
        ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "command-retry");
            thread.setDaemon(true);
            return thread;
        });
        return DefaultCommandGateway.builder()
                .commandBus(commandBus)
                .dispatchInterceptors(MessageTenancy.fromRequest())
                .retryScheduler(IntervalRetryScheduler.builder()
                        .retryExecutor(retries).retryInterval(20).maxRetryCount(5)
                        // Axon retries anything not marked non-transient; a refused command or an existing aggregate
                        // will not change its mind
                        .nonTransientFailurePredicate(failure -> failure instanceof AxonNonTransientException
                                || failure instanceof AggregateStreamCreationException
                                || failure instanceof DagyRuleViolation)
                        .build())
                .build();
    }

    /**
     * Every streaming processor is pooled, starting with {@code DAGY_PROCESSOR_SEGMENTS} segments. An idle pooled
     * processor looks for new events and unclaimed segments every {@code DAGY_PROCESSOR_IDLE_WAIT}: that bounds the
     * wait for unclaimed segments and for other nodes' events, at the price of one token-store query per processor per
     * interval. This node's own events wake a processor at once: its streams read ahead and signal arrivals
     * ({@link ReadAheadMessageSource}).
     */
    @Bean
    ConfigurerModule pooledProcessors(DagyProperties properties) {
        int segments = properties.eventStore().processorSegments();
        long idleWait = properties.eventStore().processorIdleWait().toMillis();
        int batchSize = properties.eventStore().processorBatchSize();
        return configurer -> configurer.eventProcessing(processing -> processing
                // a failing handler fails its batch, which is retried with back-off; Axon's default logs and skips it
                .registerDefaultListenerInvocationErrorHandler(config -> PropagatingErrorHandler.instance())
                .configureDefaultStreamableMessageSource(config -> new ReadAheadMessageSource(config.eventStore(),
                        READ_AHEAD_BUFFER))
                .usingPooledStreamingEventProcessors(
                        (config, builder) -> builder.tokenClaimInterval(idleWait).initialSegmentCount(segments)
                                .batchSize(batchSize)
                                // a commit's events are handled as one batch, not split by a race (decision 90)
                                .workerExecutor(name -> {
                                    GatheringExecutor executor = new GatheringExecutor(WORK_PACKAGE_GATHER,
                                            "WorkPackage[" + name + "]");
                                    config.onShutdown(executor::shutdown);
                                    return executor;
                                })
                                // a batch may run for minutes (a large fan-out): keep its claim alive meanwhile
                                .enableCoordinatorClaimExtension())
                // a saga's writes must never be split into parts (decision 21): few enough events per transaction
                // that the largest stays under DynamoDB's 100 items (decision 77)
                .registerPooledStreamingEventProcessorConfiguration(TASK_SAGA_PROCESSOR,
                        (config, builder) -> builder.batchSize(Math.min(batchSize, TASK_SAGA_BATCH_SIZE))));
    }

    /**
     * This application's name in token claims and deadline leases: {@code DAGY_NODE_ID}, else process and host plus a
     * random suffix. Two running applications must never share it (they would take each other's claims for their
     * own), so the default is unique even for two applications in one process.
     */
    @Bean
    NodeId dagyNodeId(DagyProperties properties) {
        String configured = properties.eventStore().nodeId();
        return new NodeId(configured == null || configured.isBlank()
                ? ManagementFactory.getRuntimeMXBean().getName() + "-" + java.util.UUID.randomUUID().toString().substring(0, 8)
                : configured);
    }

    /** Segments shared among live nodes (docs/event-store.md, "Several nodes"). */
    @Bean
    SegmentBalancer segmentBalancer(DynamoDbClient dynamoDb, DagyResources resources, NodeId nodeId,
                                    org.axonframework.config.EventProcessingConfiguration processing,
                                    DynamoTokenStore tokenStore, DagyProperties properties) {
        return new SegmentBalancer(dynamoDb, resources.table(DagyTable.TOKENS), nodeId.value(), processing, tokenStore,
                properties.eventStore().segmentBalanceInterval(), releaseHold(properties.eventStore()), Clock.systemUTC());
    }

    /**
     * How long a segment this node gave up is kept from it: three idle waits, in which the other nodes' coordinators
     * look for unclaimed segments three times; at least a second.
     */
    static java.time.Duration releaseHold(DagyProperties.EventStore settings) {
        java.time.Duration hold = settings.processorIdleWait().multipliedBy(3);
        return hold.compareTo(java.time.Duration.ofSeconds(1)) < 0 ? java.time.Duration.ofSeconds(1) : hold;
    }

    /** See {@link #dagyNodeId}. */
    record NodeId(String value) {
    }
}
