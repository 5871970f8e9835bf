package io.dagy.gateway.audit;

import io.dagy.gateway.FilterOrder;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.projection.identity.IdentityDirectory;
import org.axonframework.eventhandling.EventBus;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import tools.jackson.databind.json.JsonMapper;
import java.time.Clock;
import java.util.Map;
import io.dagy.gateway.settings.DagyProperties;
import io.dagy.projection.audit.AuditReplay;
import io.dagy.projection.usage.UsageAggregates;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import io.dagy.projection.audit.AuditChain;
import io.dagy.projection.audit.AuditLogProjection;
import io.dagy.tables.DagyTable;
import org.axonframework.config.ConfigurerModule;
import org.axonframework.eventhandling.async.MetaDataSequencingPolicy;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** The audit log (docs/audit.md): its chain, its projection, sequenced by organization. */
@Configuration(proxyBeanMethods = false)
class AuditConfiguration {

    @Bean
    AuditChain auditChain(DynamoDbClient dynamoDb, DagyResources resources) {
        return new AuditChain(dynamoDb, resources.table(DagyTable.AUDIT_LOGS));
    }

    @Bean
    AuditLogProjection auditLogProjection(DynamoDbClient dynamoDb, AuditChain chain) {
        return new AuditLogProjection(dynamoDb, chain);
    }

    @Bean
    FilterRegistrationBean<RefusalAuditFilter> refusalAuditFilterRegistration(EventBus eventBus, IdentityDirectory directory,
                                                                              JsonMapper json) {
        FilterRegistrationBean<RefusalAuditFilter> registration = new FilterRegistrationBean<>(
                new RefusalAuditFilter(eventBus, directory, json, Clock.systemUTC()));
        registration.setOrder(FilterOrder.AUDIT_REFUSALS);
        registration.setName("dagyRefusalAuditFilter");
        return registration;
    }

    /**
     * Replays read the event store itself; the total they report is the sum of the shards' counters (positions
     * reserved, fences included), read when the job starts.
     */
    @Bean(destroyMethod = "shutdown")
    AuditReplays auditReplays(DynamoDbClient dynamoDb, DagyResources resources, EventStorageEngine events,
                              AuditChain chain, UsageAggregates aggregates, JsonMapper json, DagyProperties properties) {
        String eventsTable = resources.table(DagyTable.EVENTS);
        int shards = properties.eventStore().shards();
        return new AuditReplays(dynamoDb, new AuditReplay(dynamoDb, events),
                AuditReplays.live(chain, aggregates, resources.table(DagyTable.USAGE_EVENTS)), () -> {
                    long total = 0;
                    for (int shard = 0; shard < shards; shard++) {
                        int s = shard;
                        var counter = dynamoDb.getItem(b -> b.tableName(eventsTable).consistentRead(true).key(Map.of(
                                "pk", AttributeValue.fromS("counter#" + s), "sk", AttributeValue.fromN("0")))).item();
                        if (counter != null && counter.containsKey("next")) {
                            total += Long.parseLong(counter.get("next").n());
                        }
                    }
                    return total;
                }, json);
    }

    /** One segment chains an organization's records: they contend only when a segment changes hands. */
    @Bean
    ConfigurerModule auditSequencing() {
        return configurer -> configurer.eventProcessing(processing -> processing.registerSequencingPolicy(
                AuditLogProjection.PROCESSING_GROUP,
                config -> MetaDataSequencingPolicy.builder().metaDataKey(AuditLogProjection.SEQUENCING_KEY).build()));
    }
}
