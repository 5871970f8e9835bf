package io.dagy.gateway.accesslog;

import io.dagy.gateway.FilterOrder;
import io.dagy.gateway.settings.DagyProperties;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Duration;

/** The access log into {@code DAGY_ACCESS_LOGS}; its filter is the outermost ({@link FilterOrder#ACCESS_LOG}). */
@Configuration(proxyBeanMethods = false)
class AccessLogConfiguration {

    @Bean
    AccessLogWriter accessLogWriter(DynamoDbClient dynamoDb, DagyResources resources, DagyProperties properties,
                                    io.dagy.gateway.usage.ApiCallMeter apiCalls) {
        DagyProperties.AccessLog settings = properties.accessLog();
        // API calls are metered from the records written (docs/usage.md)
        return new AccessLogWriter(dynamoDb, resources.table(DagyTable.ACCESS_LOGS), settings.queueSize(),
                Duration.ofDays(settings.ttlDays()), settings.linger(), apiCalls::count);
    }

    @Bean
    FilterRegistrationBean<AccessLogFilter> accessLogFilterRegistration(AccessLogWriter writer) {
        FilterRegistrationBean<AccessLogFilter> registration = new FilterRegistrationBean<>(new AccessLogFilter(writer));
        registration.setOrder(FilterOrder.ACCESS_LOG);
        registration.setName("dagyAccessLogFilter");
        return registration;
    }
}
