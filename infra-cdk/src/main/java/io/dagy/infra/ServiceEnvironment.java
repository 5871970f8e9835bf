package io.dagy.infra;

import io.dagy.tables.DagyTable;
import software.amazon.awscdk.services.dynamodb.Table;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The plain (non-secret) environment of a Dagy node on AWS: the {@code aws} profile, every {@code DAGY_*} resource
 * variable wired from the resources this stack creates (docs/operations.md lists them), and the settings of the
 * environment file. Secrets never appear here: they reach the container from Secrets Manager ({@link Settings#secrets()}).
 */
final class ServiceEnvironment {

    /** The nodes sit in private subnets reachable only from the load balancer, whose addresses are private ones. */
    static final String TRUSTED_PROXIES = "10\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}|192\\.168\\.\\d{1,3}\\.\\d{1,3}"
            + "|172\\.(1[6-9]|2[0-9]|3[0-1])\\.\\d{1,3}\\.\\d{1,3}";

    static final int PORT = 8080;

    private ServiceEnvironment() {
    }

    /**
     * @param ecsCluster        the ARN of the cluster ECS tasks run in
     * @param ecsSubnets        comma-separated subnet ids of ECS tasks
     * @param ecsSecurityGroups comma-separated security group ids of ECS tasks
     */
    static Map<String, String> of(Settings settings, String region, Map<DagyTable, Table> tables, String bucket,
                                  String eventsQueueUrl, String ecsCluster,
                                  String ecsSubnets, String ecsSecurityGroups) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SPRING_PROFILES_ACTIVE", "aws");
        env.put("AWS_REGION", region);
        env.put("DAGY_ENVIRONMENT", settings.environment());
        env.put("DAGY_PORT", String.valueOf(PORT));
        env.put("DAGY_TRUSTED_PROXIES", TRUSTED_PROXIES);
        env.put("DAGY_LOCAL_BACKEND_ENABLED", "false");
        tables.forEach((table, resource) -> env.put(table.variable(), resource.getTableName()));
        env.put("DAGY_ARTIFACT_BUCKET", bucket);
        env.put("DAGY_EVENTS_QUEUE_URL", eventsQueueUrl);

        Settings.Jwt jwt = settings.service().jwt();
        env.put("DAGY_JWT_REQUIRED", String.valueOf(jwt.required()));
        jwt.issuer().ifPresent(v -> env.put("DAGY_JWT_ISSUER", v));
        jwt.audience().ifPresent(v -> env.put("DAGY_JWT_AUDIENCE", v));
        jwt.jwksUrl().ifPresent(v -> env.put("DAGY_JWKS_URL", v));
        if (!settings.service().corsAllowedOrigins().isEmpty()) {
            env.put("DAGY_API_CORS_ALLOWED_ORIGINS", String.join(",", settings.service().corsAllowedOrigins()));
        }

        Settings.Backends backends = settings.backends();
        backends.flowExecutorFunction().ifPresent(f -> env.put("DAGY_FLOW_EXECUTOR_FUNCTION", f));
        env.put("DAGY_ECS_CLUSTER", ecsCluster);
        env.put("DAGY_ECS_SUBNETS", ecsSubnets);
        env.put("DAGY_ECS_SECURITY_GROUPS", ecsSecurityGroups);
        // private subnets with a NAT gateway: tasks need no public address to pull images and reach AWS
        env.put("DAGY_ECS_ASSIGN_PUBLIC_IP", "false");
        backends.ecsContainer().ifPresent(c -> env.put("DAGY_ECS_CONTAINER", c));

        // the JVM sizes its heap from the task's memory; leave room for metaspace, threads and direct buffers
        env.put("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError");
        env.putAll(settings.service().extraEnvironment());
        return env;
    }
}
