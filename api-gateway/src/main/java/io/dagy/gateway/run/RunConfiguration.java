package io.dagy.gateway.run;

import io.dagy.command.deployment.Deployment;
import io.dagy.command.deployment.BackendPolicy;
import io.dagy.command.deployment.DeploymentIds;
import io.dagy.command.run.Run;
import io.dagy.command.run.RunStarter;
import io.dagy.command.run.TaskOutcomes;
import io.dagy.command.task.TaskQueueing;
import io.dagy.command.task.TaskRun;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.query.run.RunHistory;
import io.dagy.query.run.RunObserver;
import io.dagy.query.run.RunQueryHandler;
import io.dagy.query.run.RunViewProjection;
import io.dagy.query.run.RunViews;
import io.dagy.eventstore.events.FamilyHistory;
import io.dagy.gateway.settings.DagyProperties;
import org.springframework.beans.factory.annotation.Qualifier;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.ContextCarrier;
import io.dagy.saga.report.DirectReports;
import io.dagy.gateway.backend.AwsBackends;
import io.dagy.saga.backend.ExecutionBackend;
import io.dagy.saga.backend.ExecutionBackends;
import io.dagy.saga.backend.LocalProcessBackend;
import io.dagy.saga.backend.NoopBackend;
import io.dagy.saga.backend.WorkerBackend;
import io.dagy.saga.backend.WorkerHandOff;
import org.axonframework.eventhandling.LoggingErrorHandler;
import io.dagy.saga.report.ReportConsumer;
import io.dagy.saga.run.RunOrchestration;
import io.dagy.saga.run.RunSequencingPolicy;
import io.dagy.saga.task.SegmentOwnedSagaManager;
import io.dagy.eventstore.sagas.DynamoSagaStore;
import io.dagy.saga.task.TaskExecutionSaga;
import org.axonframework.modelling.saga.AnnotatedSagaManager;
import io.dagy.tables.DagyTable;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.eventstore.tx.OwnedItems;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.config.ConfigurerModule;
import org.axonframework.modelling.command.Repository;
import org.axonframework.serialization.Serializer;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import tools.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.List;

/** Runs: starting them, executing their tasks on this node's backends, and their read model. */
@Configuration(proxyBeanMethods = false)
class RunConfiguration {

    @Bean
    RunStarter runStarter(Repository<Deployment> deploymentRepository, Repository<Run> runRepository,
                          Repository<TaskRun> taskRunRepository, DeploymentIds deploymentIds) {
        return new RunStarter(deploymentRepository, runRepository, taskRunRepository, deploymentIds);
    }

    @Bean
    TaskOutcomes taskOutcomes(Repository<TaskRun> taskRunRepository, Repository<Run> runRepository) {
        return new TaskOutcomes(taskRunRepository, runRepository);
    }

    @Bean
    TaskQueueing taskQueueing(Repository<TaskRun> taskRunRepository) {
        return new TaskQueueing(taskRunRepository);
    }

    /**
     * The backends of this node report straight to their task runs (durable once committed); the events queue is
     * for reports from outside (AWS backends), read by the report consumer.
     */
    @Bean(destroyMethod = "close")
    BackendReports backendReports(CommandGateway commands, ContextCarrier carrier) {
        return new DirectReports(commands, carrier);
    }

    @Bean
    NoopBackend noopBackend(BackendReports reports) {
        return new NoopBackend(reports);
    }

    @Bean
    LocalProcessBackend localProcessBackend(BackendReports reports, DynamoDbClient dynamoDb, S3Client s3,
                                            DagyResources resources, JsonMapper json, ContextCarrier carrier) {
        return new LocalProcessBackend(reports, dynamoDb, resources.table(DagyTable.TASK_RUNS), s3,
                resources.artifactBucket(), json, carrier);
    }

    @Bean
    WorkerBackend workerBackend(DynamoDbClient dynamoDb, DagyResources resources, JsonMapper json, BackendReports reports) {
        return new WorkerBackend(dynamoDb, resources.table(DagyTable.TASK_RUNS), json, reports, java.time.Clock.systemUTC());
    }

    @Bean
    WorkerHandOff workerHandOff(WorkerBackend workers) {
        return new WorkerHandOff(workers);
    }

    /**
     * The hand-off runs in the committing thread as events are published (a subscribing processor); a failure of it
     * is logged and never fails the commit, since the saga queues the attempt anyway.
     */
    @Bean
    ConfigurerModule workerHandOffProcessing() {
        return configurer -> configurer.eventProcessing(processing -> processing
                .registerSubscribingEventProcessor(WorkerHandOff.PROCESSING_GROUP)
                .registerListenerInvocationErrorHandler(WorkerHandOff.PROCESSING_GROUP,
                        config -> new LoggingErrorHandler()));
    }

    @Bean
    ExecutionBackends executionBackends(NoopBackend noop, LocalProcessBackend local, WorkerBackend worker,
                                        BackendPolicy policy, AwsBackends aws) {
        List<ExecutionBackend> backends = new ArrayList<>(List.of(noop, worker));
        // a deployment published before the local backend was disabled still cannot run shell commands here
        if (policy.allows(local.type())) {
            backends.add(local);
        }
        backends.addAll(aws.backends());
        return new ExecutionBackends(backends);
    }

    /**
     * Reports in Dagy's shape and the AWS backends' state changes (docs/backends.md). Receives wait up to 20 s (SQS's
     * longest): a report is answered as it arrives, and an idle node asks the queue once per 10 s, not twice a second
     * (decision 87).
     */
    @Bean(destroyMethod = "close")
    ReportConsumer reportConsumer(SqsClient sqs, DagyResources resources, CommandGateway commands, JsonMapper json,
                                  AwsBackends aws) {
        return new ReportConsumer(sqs, resources.eventsQueueUrl(), commands, json, 20, aws.stateChanges());
    }

    /** Reports are consumed once the application (and its processors) are up. */
    @EventListener(ApplicationReadyEvent.class)
    void startReportConsumer(ApplicationReadyEvent ready) {
        ready.getApplicationContext().getBean(ReportConsumer.class).start(2);
    }

    @Bean
    RunOrchestration runOrchestration() {
        return new RunOrchestration();
    }

    @Bean
    ConfigurerModule runSequencing() {
        return configurer -> configurer.eventProcessing(processing -> processing
                .registerSequencingPolicy(RunOrchestration.PROCESSING_GROUP, config -> new RunSequencingPolicy())
                .registerSequencingPolicy(RunViewProjection.PROCESSING_GROUP, config -> new RunSequencingPolicy()));
    }

    /**
     * The saga that executes task runs, registered by hand (not as a Spring {@code @Saga}) to give it a manager that
     * handles each event only in its task run's segment ({@link SegmentOwnedSagaManager}).
     */
    @Bean
    ConfigurerModule taskExecutionSaga(DynamoSagaStore sagaStore, DynamoTokenStore tokens) {
        // found by the identifier derived from its task run, without an association query (decision 81)
        sagaStore.keyBy(TaskExecutionSaga.class, TaskExecutionSaga.ASSOCIATION);
        // loaded once per node while its claims stand, not for every event (decision 88); Axon names a saga's
        // processing group after the saga type
        sagaStore.remember(TaskExecutionSaga.class, new OwnedItems(
                TaskExecutionSaga.class.getSimpleName() + "Processor", tokens.claimEpochs(), 20_000));
        return configurer -> configurer.eventProcessing().registerSaga(TaskExecutionSaga.class, saga -> saga
                .configureSagaManager(config -> new SegmentOwnedSagaManager<>(AnnotatedSagaManager.<TaskExecutionSaga>builder()
                        .sagaType(TaskExecutionSaga.class)
                        .sagaRepository(config.eventProcessingConfiguration().sagaConfiguration(TaskExecutionSaga.class)
                                .repository())
                        .parameterResolverFactory(config.parameterResolverFactory())
                        .handlerDefinition(config.handlerDefinition(TaskExecutionSaga.class))
                        .listenerInvocationErrorHandler(config.eventProcessingConfiguration().listenerInvocationErrorHandler(
                                config.eventProcessingConfiguration().sagaProcessingGroup(TaskExecutionSaga.class))),
                        // a task run's first dispatch starts its saga without reading it first (decision 93)
                        sagaStore, TaskExecutionSaga::startsItsSaga)));
    }

    /**
     * The run views, whose items the projection reads remembered while this node's claims on it stand (decision 88):
     * a run's items are written only by the segment that handles the run.
     */
    @Bean
    RunViews runViews(DynamoDbClient dynamoDb, DagyResources resources, Serializer serializer, DynamoTokenStore tokens) {
        return new RunViews(dynamoDb, resources.table(DagyTable.RUNS), serializer,
                new OwnedItems(RunViewProjection.PROCESSING_GROUP, tokens.claimEpochs(), 20_000));
    }

    @Bean
    RunViewProjection runViewProjection(RunViews views, RunObserver observer) {
        return new RunViewProjection(views, observer);
    }

    @Bean
    RunQueryHandler runQueryHandler(RunViews views, DynamoDbClient dynamoDb, Serializer serializer) {
        return new RunQueryHandler(views, dynamoDb, serializer);
    }

    /** A run's history, read from the event store (shared by every node), for its events and its live stream. */
    @Bean
    RunHistory runHistory(DynamoDbClient dynamoDb, DagyResources resources, DagyProperties properties,
                          org.axonframework.config.Configuration axon,
                          @Qualifier("eventSerializer") Serializer eventSerializer) {
        return new RunHistory(new FamilyHistory(dynamoDb, resources.table(DagyTable.EVENTS),
                io.dagy.eventstore.events.EventStoreSettings.defaults().withShards(properties.eventStore().shards()),
                eventSerializer, axon.upcasterChain()));
    }

    @Bean(destroyMethod = "close")
    RunStreams runStreams(RunHistory history) {
        return new RunStreams(history, java.time.Duration.ofMillis(250), java.time.Duration.ofMinutes(30));
    }
}
