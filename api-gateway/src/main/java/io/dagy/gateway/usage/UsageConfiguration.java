package io.dagy.gateway.usage;

import io.dagy.contracts.identity.MessageKeys;
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

    @Bean
    UsageAggregates usageAggregates(DynamoDbClient dynamoDb, DagyResources resources) {
        return new UsageAggregates(dynamoDb, resources.table(DagyTable.USAGE_AGGREGATES));
    }

    @Bean
    UsageProjection usageProjection(DynamoDbClient dynamoDb, DagyResources resources, UsageAggregates aggregates) {
        return new UsageProjection(dynamoDb, resources.table(DagyTable.USAGE_EVENTS), aggregates);
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
