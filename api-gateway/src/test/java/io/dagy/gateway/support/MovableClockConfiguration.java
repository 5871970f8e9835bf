package io.dagy.gateway.support;

import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;

/** Gives a test's application a {@link MovableClock} for its time: {@code @Import(MovableClockConfiguration.class)}. */
@TestConfiguration(proxyBeanMethods = false)
public class MovableClockConfiguration {

    @Bean
    MovableClock movableClock() {
        return new MovableClock();
    }
}
