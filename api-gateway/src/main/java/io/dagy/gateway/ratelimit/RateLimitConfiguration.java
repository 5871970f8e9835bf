package io.dagy.gateway.ratelimit;

import io.dagy.gateway.FilterOrder;
import io.dagy.gateway.problem.ProblemWriter;
import io.dagy.gateway.settings.DagyProperties;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.ClientSideConfig;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Duration;

/**
 * The rate limit ({@code DAGY_RATE_LIMIT_*}), on unless {@code DAGY_RATE_LIMIT_ENABLED=false}. Buckets live in
 * {@code DAGY_RATE_LIMITS}; the filter runs at {@link FilterOrder#RATE_LIMIT}, after the security chain.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnBooleanProperty(name = "dagy.rate-limit.enabled", matchIfMissing = true)
class RateLimitConfiguration {

    /** Each DynamoDB call of a bucket step gives up after this; the request then goes through unlimited. */
    static final Duration STORE_TIMEOUT = Duration.ofSeconds(2);

    /**
     * @param clock the clock of the buckets: the wall clock (every node must share it), unless a test supplies one
     */
    @Bean
    RateLimiter rateLimiter(DynamoDbClient dynamoDb, DagyResources resources, DagyProperties properties,
                            ObjectProvider<TimeMeter> clock) {
        DagyProperties.RateLimit limit = properties.rateLimit();
        ClientSideConfig config = ClientSideConfig.getDefault()
                .withClientClock(clock.getIfAvailable(() -> TimeMeter.SYSTEM_MILLISECONDS))
                .withRequestTimeout(STORE_TIMEOUT)
                // a bucket that would be full again is the same as no bucket: let DynamoDB delete it then
                .withExpirationAfterWriteStrategy(ExpirationAfterWriteStrategy
                        .basedOnTimeForRefillingBucketUpToMax(Duration.ofMinutes(1)));
        var buckets = new DynamoDbProxyManager(dynamoDb, resources.table(DagyTable.RATE_LIMITS),
                RateLimiter.limitKey(limit.perMinute(), limit.burst()), config);
        return new RateLimiter(buckets, limit.perMinute(), limit.burst());
    }

    @Bean
    FilterRegistrationBean<RateLimitFilter> rateLimitFilterRegistration(RateLimiter limiter, ProblemWriter problems) {
        FilterRegistrationBean<RateLimitFilter> registration =
                new FilterRegistrationBean<>(new RateLimitFilter(limiter, problems));
        registration.setOrder(FilterOrder.RATE_LIMIT);
        registration.setName("dagyRateLimitFilter");
        return registration;
    }
}
