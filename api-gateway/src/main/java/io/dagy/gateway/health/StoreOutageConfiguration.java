package io.dagy.gateway.health;

import io.dagy.gateway.FilterOrder;
import io.dagy.gateway.problem.ProblemWriter;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Clock;
import java.time.Duration;

/** The store outage gate (see {@link StoreOutage}). */
@Configuration(proxyBeanMethods = false)
class StoreOutageConfiguration {

    @Bean
    StoreOutage storeOutage(DynamoDbClient dynamoDb, DagyResources resources,
                            @Value("${dagy.store-probe-interval:5s}") Duration probeInterval) {
        return new StoreOutage(dynamoDb, resources.table(DagyTable.EVENTS), probeInterval, Clock.systemUTC());
    }

    @Bean
    FilterRegistrationBean<StoreOutageFilter> storeOutageFilterRegistration(StoreOutage outage, ProblemWriter problems) {
        FilterRegistrationBean<StoreOutageFilter> registration = new FilterRegistrationBean<>(new StoreOutageFilter(outage, problems));
        registration.setOrder(FilterOrder.STORE_OUTAGE);
        return registration;
    }
}
