package io.dagy.gateway.usage;

import io.dagy.contracts.identity.MessageKeys;
import io.dagy.eventstore.tokens.DynamoTokenStore;
import io.dagy.eventstore.tx.OwnedItems;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.projection.usage.UsageAggregates;
import io.dagy.projection.usage.UsageProjection;
import io.dagy.tables.DagyTable;
import org.axonframework.config.ConfigurerModule;
import org.axonframework.eventhandling.async.MetaDataSequencingPolicy;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** Usage metering (docs/usage.md): the projection, sequenced by organization, and its totals. */
@Configuration(proxyBeanMethods = false)
class UsageConfiguration {

    /**
     * The usage items the projection reads, remembered while this node's claims on it stand (decision 88): an
     * organization's items are written only by the segment that handles the organization.
     */
    @Bean
    UsageItems usageItems(DynamoTokenStore tokens) {
        return new UsageItems(new OwnedItems(UsageProjection.PROCESSING_GROUP, tokens.claimEpochs(), OWNED_ITEMS));
    }

    @Bean
    UsageAggregates usageAggregates(DynamoDbClient dynamoDb, DagyResources resources, UsageItems items) {
        return new UsageAggregates(dynamoDb, resources.table(DagyTable.USAGE_AGGREGATES), items.owned());
    }

    @Bean
    UsageProjection usageProjection(DynamoDbClient dynamoDb, DagyResources resources, UsageAggregates aggregates,
                                    UsageItems items) {
        return new UsageProjection(dynamoDb, resources.table(DagyTable.USAGE_EVENTS), aggregates, items.owned());
    }

    /** How many usage items a node remembers. */
    private static final int OWNED_ITEMS = 20_000;

    /** The usage projection's {@link OwnedItems}, a bean of its own type. */
    record UsageItems(OwnedItems owned) {
    }

    @Bean
    ApiCallMeter apiCallMeter(DynamoDbClient dynamoDb, DagyResources resources) {
        return new ApiCallMeter(dynamoDb, resources.table(DagyTable.USAGE_AGGREGATES));
    }

    /** An organization's totals are written by one segment at a time: no two segments contend for its hour. */
    @Bean
    ConfigurerModule usageSequencing() {
        return configurer -> configurer.eventProcessing(processing -> processing.registerSequencingPolicy(
                UsageProjection.PROCESSING_GROUP,
                config -> MetaDataSequencingPolicy.builder().metaDataKey(MessageKeys.ORG_ID).build()));
    }
}
