package io.dagy.gateway.axon;

import io.dagy.eventstore.deadletters.DynamoSequencedDeadLetterQueue;
import io.dagy.eventstore.deadletters.EventSavepoints;
import io.dagy.eventstore.deadletters.RetryThenPark;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.gateway.settings.DagyProperties;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import org.axonframework.config.ConfigurerModule;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Duration;

/**
 * Dead letters (docs/event-store.md, decision 41): every processing group of plain event handlers (the projections,
 * the run orchestration, and any added later) gets a {@link DynamoSequencedDeadLetterQueue}, sequenced by its
 * processor's sequencing policy (per aggregate; per run for the run orchestration). A failing event is handled
 * {@code DAGY_DEAD_LETTER_ATTEMPTS} times, its segment retrying with back-off, then parked with its sequence
 * ({@link RetryThenPark}) while the rest of the segment goes on. Sagas are not dead-lettered: Axon 4.13 has no
 * dead-lettering for saga managers, and their processor keeps retrying a failing event (decision 41 says why).
 */
@Configuration(proxyBeanMethods = false)
class DeadLetterConfiguration {

    /**
     * How long a retry holds a parked sequence without progress before another node may take it over: as long as an
     * event handler may take (decision 23), so a slow retry is never overtaken.
     */
    static final Duration CLAIM = Duration.ofMinutes(10);

    @Bean
    DeadLetterQueues deadLetterQueues() {
        return new DeadLetterQueues();
    }

    @Bean
    ConfigurerModule deadLettering(DynamoDbClient dynamoDb, DagyResources resources, DagyProperties properties,
                                   DeadLetterQueues queues, DynamoTokenStore tokenStore) {
        DagyProperties.DeadLetters settings = properties.deadLetters();
        RetryThenPark policy = new RetryThenPark(settings.attempts());
        return configurer -> configurer.eventProcessing(processing -> processing
                .registerDeadLetterQueueProvider(group -> config -> queues.register(
                        DynamoSequencedDeadLetterQueue.builder()
                                .dynamoDb(dynamoDb)
                                .table(resources.table(DagyTable.DEAD_LETTERS))
                                .processingGroup(group)
                                .eventSerializer(config.eventSerializer())
                                .serializer(config.serializer())
                                .maxSequences(settings.maxSequences())
                                .maxSequenceSize(settings.maxSequenceSize())
                                .claimDuration(CLAIM)
                                // a processor's transactions reuse the parked sequences they read while this node's
                                // claims on the group stand still (decision 80)
                                .claimEpochs(tokenStore.claimEpochs())
                                .build()))
                .registerDefaultDeadLetterPolicy(config -> policy)
                // each event of a batch is marked, so a parked event's own writes can be dropped
                .registerDefaultHandlerInterceptor((config, processor) -> EventSavepoints.interceptor(processor)));
    }
}
