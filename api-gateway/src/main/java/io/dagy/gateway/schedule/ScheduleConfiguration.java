package io.dagy.gateway.schedule;

import io.dagy.command.deployment.DeploymentIds;
import io.dagy.command.schedule.DeploymentLookup;
import io.dagy.command.schedule.ScheduleClock;
import io.dagy.gateway.billing.BillingGuard;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.saga.schedule.RunAdmission;
import io.dagy.saga.schedule.ScheduledRunCommands;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.projection.schedule.ScheduleViewProjection;
import io.dagy.query.schedule.ScheduleQueryHandler;
import io.dagy.tables.DagyTable;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import org.axonframework.config.ConfigurerModule;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.time.Clock;

/** Schedules: their clock, the deployment check of their creation, their listing, and the saga that starts their runs. */
@Configuration(proxyBeanMethods = false)
class ScheduleConfiguration {

    /** Axon's name for the processor of {@code ScheduledRunSaga}. */
    static final String SAGA_PROCESSOR = "ScheduledRunSagaProcessor";

    /** The system clock, or a test's clock when the test has one (the deadline manager takes the same). */
    @Bean
    ScheduleClock scheduleClock(ObjectProvider<Clock> clock) {
        return new ScheduleClock(clock.getIfUnique(Clock::systemUTC));
    }

    /** Whether a deployment exists, from its event stream (strongly consistent, unlike the deployment views). */
    @Bean
    DeploymentLookup scheduleDeploymentLookup(ObjectProvider<EventStore> eventStore, DeploymentIds deploymentIds) {
        return (org, name) -> eventStore.getObject().lastSequenceNumberFor(deploymentIds.aggregateId(org, name)).isPresent();
    }

    @Bean
    ScheduleViewProjection scheduleViewProjection(DynamoDbClient dynamoDb, DagyResources resources, Serializer serializer) {
        return new ScheduleViewProjection(dynamoDb, resources.table(DagyTable.SCHEDULES), serializer);
    }

    @Bean
    ScheduleQueryHandler scheduleQueryHandler(DynamoDbClient dynamoDb, DagyResources resources, Serializer serializer) {
        return new ScheduleQueryHandler(dynamoDb, resources.table(DagyTable.SCHEDULES), serializer);
    }

    /** Scheduled runs are held to the plan's limits like runs started through the API (docs/billing.md). */
    @Bean(destroyMethod = "close")
    ScheduledRunCommands scheduledRunCommands(CommandGateway commands, BillingGuard billing) {
        return new ScheduledRunCommands(commands, (org, run) -> {
            try {
                return billing.startRun(org, run.value())::release;
            } catch (ProblemException refused) {
                throw new RunAdmission.Refusal(refused.error());
            }
        });
    }

    /** One event per transaction, as for the task execution saga: a saga's start stays one atomic write (decision 21). */
    @Bean
    ConfigurerModule scheduledRunSagaProcessor() {
        return configurer -> configurer.eventProcessing(processing -> processing
                .registerPooledStreamingEventProcessorConfiguration(SAGA_PROCESSOR,
                        (config, builder) -> builder.batchSize(1)));
    }
}
