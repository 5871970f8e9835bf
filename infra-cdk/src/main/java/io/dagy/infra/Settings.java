package io.dagy.infra;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One environment's settings, read from {@code infra-cdk/environments/<environment>.yml} (the deployment guide's
 * "Configure CDK Context Parameters" format, with Dagy's own keys under {@code dagy:}). docs/deploy-aws.md lists every
 * key.
 *
 * @param environment the environment's name, the suffix of every resource name ({@code dagy-runs-develop})
 * @param region      the AWS region
 * @param account     the AWS account id
 * @param production  whether data is protected: point-in-time recovery, deletion protection, retained on stack delete
 * @param tags        tags put on every resource (app, owner, company, project_cost)
 * @param service     the Dagy service: image, size, network, API edge
 * @param secrets     environment variable to the name of the Secrets Manager secret that holds its value
 * @param backends    what the execution backends may touch
 * @param alarms      where alarms go
 */
public record Settings(String environment, String region, String account, boolean production, Map<String, String> tags,
                       Service service, Map<String, String> secrets, Backends backends, Alarms alarms) {

    public Settings {
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(account, "account");
        tags = Map.copyOf(tags);
        Objects.requireNonNull(service, "service");
        secrets = Map.copyOf(secrets);
        Objects.requireNonNull(backends, "backends");
        Objects.requireNonNull(alarms, "alarms");
    }

    /** The name of a resource of this environment: {@code dagy-<what>-<environment>}. */
    public String name(String what) {
        return "dagy-" + what + "-" + environment;
    }

    /**
     * The Dagy service.
     *
     * @param ecrRepositoryName the ECR repository of the service image (created by the images stack)
     * @param ecrPushPrincipals IAM principals (role ARNs) allowed to push images
     * @param imageTag          the image tag the service runs
     * @param desiredCount      nodes; each is a full Dagy node (API, processors, deadlines)
     * @param cpu               Fargate CPU units per node
     * @param memoryMib         Fargate memory per node
     * @param vpcId             an existing VPC, or empty to create one
     * @param subnetIds         the private subnets of the existing VPC the nodes run in
     * @param securityGroupIds  the nodes' security groups instead of one the stack creates (the load balancer's access
     *                          is added); they must admit nothing else, as the nodes trust forwarded addresses
     * @param certificateArn    an ACM certificate: the load balancer then listens on HTTPS (443) and redirects 80
     * @param jwt               JWT settings (the guide's jwt_required, jwt_issuer, jwt_audience, jwks_url)
     * @param corsAllowedOrigins the guide's api_cors_allowed_origins
     * @param extraEnvironment  further non-secret DAGY_* settings (docs/operations.md), e.g. DAGY_EVENT_SHARDS
     */
    public record Service(String ecrRepositoryName, List<String> ecrPushPrincipals, String imageTag, int desiredCount,
                          int cpu, int memoryMib, Optional<String> vpcId, List<String> subnetIds,
                          List<String> securityGroupIds, Optional<String> certificateArn, Jwt jwt,
                          List<String> corsAllowedOrigins, Map<String, String> extraEnvironment) {
        public Service {
            Objects.requireNonNull(ecrRepositoryName, "ecrRepositoryName");
            ecrPushPrincipals = List.copyOf(ecrPushPrincipals);
            Objects.requireNonNull(imageTag, "imageTag");
            Objects.requireNonNull(vpcId, "vpcId");
            subnetIds = List.copyOf(subnetIds);
            securityGroupIds = List.copyOf(securityGroupIds);
            Objects.requireNonNull(certificateArn, "certificateArn");
            Objects.requireNonNull(jwt, "jwt");
            corsAllowedOrigins = List.copyOf(corsAllowedOrigins);
            extraEnvironment = Map.copyOf(extraEnvironment);
        }
    }

    /** The guide's JWT settings; issuer, audience and JWKS URL are required when {@code required}. */
    public record Jwt(boolean required, Optional<String> issuer, Optional<String> audience, Optional<String> jwksUrl) {
    }

    /**
     * The resources of the three AWS execution backends. Nothing here means that backend may touch nothing: its tasks
     * then fail with {@code backend_misconfigured} (docs/backends.md).
     *
     * @param lambdaFunctions        ARNs (a trailing {@code *} allowed, e.g. {@code function:dagy-task-*}) of the
     *                               functions tasks may invoke
     * @param flowExecutorFunction   the guide's DAGY_FLOW_EXECUTOR_FUNCTION (name or ARN), the default function
     * @param stateMachines          ARNs of the state machines tasks may start
     * @param ecsClusterName         the cluster tasks run in; empty: the service's own cluster
     * @param ecsTaskDefinitions     task definition ARNs (or family ARNs ending in {@code :*}) tasks may run
     * @param ecsContainer           the container of those task definitions that gets the overrides (env, command)
     * @param ecsTaskRoles           the task and execution roles of those task definitions, which RunTask passes
     * @param ecsSubnets             subnets of the tasks; empty: the service's private subnets
     * @param ecsSecurityGroups      security groups of the tasks; empty: one the stack creates (egress only)
     */
    public record Backends(List<String> lambdaFunctions, Optional<String> flowExecutorFunction,
                           List<String> stateMachines, Optional<String> ecsClusterName,
                           List<String> ecsTaskDefinitions, Optional<String> ecsContainer,
                           List<String> ecsTaskRoles, List<String> ecsSubnets, List<String> ecsSecurityGroups) {
        public Backends {
            lambdaFunctions = List.copyOf(lambdaFunctions);
            Objects.requireNonNull(flowExecutorFunction, "flowExecutorFunction");
            stateMachines = List.copyOf(stateMachines);
            Objects.requireNonNull(ecsClusterName, "ecsClusterName");
            ecsTaskDefinitions = List.copyOf(ecsTaskDefinitions);
            Objects.requireNonNull(ecsContainer, "ecsContainer");
            ecsTaskRoles = List.copyOf(ecsTaskRoles);
            ecsSubnets = List.copyOf(ecsSubnets);
            ecsSecurityGroups = List.copyOf(ecsSecurityGroups);
        }
    }

    /**
     * Alarm thresholds and destinations.
     *
     * @param emails               addresses subscribed to the alarm topic
     * @param errorRatePercent     5xx answers of the API, percent of requests, over 5 minutes
     * @param queueAgeSeconds      age of the oldest report waiting in the events queue
     */
    public record Alarms(List<String> emails, double errorRatePercent, int queueAgeSeconds) {
        public Alarms {
            emails = List.copyOf(emails);
        }
    }
}
