package io.dagy.gateway.observability;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.axonframework.deadline.DeadlineMessage;
import org.axonframework.messaging.InterceptorChain;
import org.axonframework.messaging.MessageHandlerInterceptor;
import org.axonframework.messaging.unitofwork.UnitOfWork;

import java.time.Clock;
import java.time.Duration;

/**
 * How late deadlines fire ({@code dagy.deadline.lag}): the time from a deadline's due time (the deadline message's
 * timestamp, which the deadline manager stores and restores) to the moment its handler starts, each firing once on the
 * node that fires it (a retried firing counts again). A deadline manager handler interceptor: no request of its own.
 */
final class DeadlineLag implements MessageHandlerInterceptor<DeadlineMessage<?>> {

    static final String LAG = "dagy.deadline.lag";

    private static final Duration[] BUCKETS = {Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(1),
            Duration.ofMinutes(5)};

    private final MeterRegistry registry;
    private final Clock clock;

    DeadlineLag(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
    }

    @Override
    public Object handle(UnitOfWork<? extends DeadlineMessage<?>> unitOfWork, InterceptorChain chain) throws Exception {
        DeadlineMessage<?> deadline = unitOfWork.getMessage();
        Duration late = Duration.between(deadline.getTimestamp(), clock.instant());
        Timer.builder(LAG).description("From a deadline's due time to its handling")
                .tag("deadline", deadline.getDeadlineName()).serviceLevelObjectives(BUCKETS).register(registry)
                .record(late.isNegative() ? Duration.ZERO : late);
        return chain.proceed();
    }
}
