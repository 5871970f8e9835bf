package io.dagy.gateway.backend;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.net.URI;
import java.util.List;

/**
 * The AWS execution backends (docs/backends.md), each setting from its {@code DAGY_*} variable.
 *
 * @param awsEnabled           {@code DAGY_AWS_BACKENDS_ENABLED}: whether this node runs {@code lambda},
 *                             {@code step_functions} and {@code ecs} tasks (on in the {@code aws} profile); off, their
 *                             attempts fail with {@code backend_unavailable}
 * @param awsEndpoint          {@code DAGY_AWS_BACKENDS_ENDPOINT}: one endpoint for the three APIs instead of AWS's (the
 *                             tests' stand-ins); unset, the SDK's regional endpoints
 * @param flowExecutorFunction {@code DAGY_FLOW_EXECUTOR_FUNCTION}: the function a {@code lambda} task without its own
 *                             {@code function} invokes
 * @param ecs                  the Fargate settings ({@code DAGY_ECS_*})
 */
@ConfigurationProperties("dagy.backends")
public record BackendProperties(
        @DefaultValue("false") boolean awsEnabled,
        URI awsEndpoint,
        String flowExecutorFunction,
        @DefaultValue Ecs ecs) {

    /**
     * @param cluster        {@code DAGY_ECS_CLUSTER}
     * @param subnets        {@code DAGY_ECS_SUBNETS}, comma-separated
     * @param securityGroups {@code DAGY_ECS_SECURITY_GROUPS}, comma-separated
     * @param assignPublicIp {@code DAGY_ECS_ASSIGN_PUBLIC_IP}: for public subnets without a NAT gateway
     * @param container      {@code DAGY_ECS_CONTAINER}: the container of the task definition that gets the overrides
     */
    public record Ecs(String cluster, List<String> subnets, List<String> securityGroups,
                      @DefaultValue("false") boolean assignPublicIp, @DefaultValue("task-worker") String container) {
        public Ecs {
            subnets = subnets == null ? List.of() : subnets.stream().filter(s -> !s.isBlank()).toList();
            securityGroups = securityGroups == null ? List.of()
                    : securityGroups.stream().filter(s -> !s.isBlank()).toList();
        }
    }
}
