package io.dagy.gateway.health;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One dependency's health as the detailed health endpoint reports it.
 *
 * @param status    {@code healthy} or {@code unhealthy}
 * @param latencyMs how long the probe took
 * @param error     why it is unhealthy (absent when healthy)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record ComponentHealth(String status, long latencyMs, String error) {

    static final String HEALTHY = "healthy";
    static final String UNHEALTHY = "unhealthy";

    boolean healthy() {
        return HEALTHY.equals(status);
    }
}
