package io.dagy.saga.backend.aws;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.Dispatch;
import io.dagy.saga.secret.SecretResolver;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.AssignPublicIp;
import software.amazon.awssdk.services.ecs.model.ContainerOverride;
import software.amazon.awssdk.services.ecs.model.DesiredStatus;
import software.amazon.awssdk.services.ecs.model.EcsException;
import software.amazon.awssdk.services.ecs.model.Failure;
import software.amazon.awssdk.services.ecs.model.KeyValuePair;
import software.amazon.awssdk.services.ecs.model.LaunchType;
import software.amazon.awssdk.services.ecs.model.RunTaskResponse;
import software.amazon.awssdk.services.ecs.model.Tag;
import tools.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Runs an attempt as one Fargate task ({@code RunTask}) of the task's {@code task_definition} on the cluster, subnets
 * and security groups of this installation ({@link Settings}; a task may name its own {@code cluster}). The container
 * {@code container} (or the installation's default) gets the task's {@code command} and {@code env}, the dispatch's
 * identity as {@code DAGY_*} variables, the run's params as JSON in {@code DAGY_PARAMS} and each secret as
 * {@code DAGY_SECRET_<NAME>}. {@code startedBy} and {@code clientToken} are the dispatch's execution name and the tags
 * carry the dispatch id, so a repeated dispatch finds the task it started (and ECS's own idempotency returns it).
 * Cancel and timeouts are {@code StopTask}. The outcome arrives as EventBridge's "ECS Task State Change".
 */
public final class EcsBackend extends AwsBackend {

    /**
     * The installation's ECS settings ({@code DAGY_ECS_*}).
     *
     * @param cluster        the cluster tasks run on unless a task names one
     * @param subnets        the awsvpc subnets
     * @param securityGroups the awsvpc security groups
     * @param assignPublicIp whether tasks get a public address (needed in public subnets without a NAT)
     * @param container      the container that gets the overrides unless a task names one
     */
    public record Settings(String cluster, List<String> subnets, List<String> securityGroups, boolean assignPublicIp,
                           String container) {
        public Settings {
            subnets = subnets == null ? List.of() : List.copyOf(subnets);
            securityGroups = securityGroups == null ? List.of() : List.copyOf(securityGroups);
        }
    }

    static final String DISPATCH_TAG = "dagy:dispatch-id";

    private final EcsClient ecs;
    private final Settings settings;
    private final JsonMapper json;

    public EcsBackend(EcsClient ecs, Settings settings, AwsDispatches dispatches, SecretResolver secrets,
                      BackendReports reports, JsonMapper json) {
        super(dispatches, secrets, reports);
        this.ecs = ecs;
        this.settings = settings;
        this.json = json;
    }

    @Override
    public BackendType type() {
        return BackendType.ECS;
    }

    @Override
    @SuppressWarnings("unchecked")
    Started start(Dispatch dispatch, String name, Map<String, String> secretValues) {
        Map<String, Object> config = dispatch.spec().backend().config();
        String cluster = text(config, "cluster", settings.cluster());
        String container = text(config, "container", settings.container());
        if (cluster == null || container == null) {
            throw misconfigured("no ECS cluster or container: set DAGY_ECS_CLUSTER and DAGY_ECS_CONTAINER or name them "
                    + "in the task");
        }
        List<KeyValuePair> environment = new ArrayList<>();
        if (config.get("env") instanceof Map<?, ?> env) {
            env.forEach((key, value) -> environment.add(pair(String.valueOf(key), String.valueOf(value))));
        }
        identity(dispatch, name).forEach((key, value) -> environment.add(
                pair("DAGY_" + key.toUpperCase(Locale.ROOT), String.valueOf(value))));
        environment.add(pair("DAGY_PARAMS", json.writeValueAsString(dispatch.params())));
        secretValues.forEach((secret, value) -> environment.add(pair(secretVariable(secret), value)));
        ContainerOverride.Builder override = ContainerOverride.builder().name(container).environment(environment);
        if (config.get("command") instanceof List<?> command) {
            override.command((List<String>) command);
        }
        RunTaskResponse response = ecs.runTask(b -> b.cluster(cluster)
                .taskDefinition((String) config.get("task_definition"))
                .launchType(LaunchType.FARGATE).count(1)
                .startedBy(name).clientToken(name)
                .networkConfiguration(n -> n.awsvpcConfiguration(v -> v.subnets(settings.subnets())
                        .securityGroups(settings.securityGroups())
                        .assignPublicIp(settings.assignPublicIp() ? AssignPublicIp.ENABLED : AssignPublicIp.DISABLED)))
                .overrides(o -> o.containerOverrides(override.build()))
                .tags(Tag.builder().key(DISPATCH_TAG).value(dispatch.dispatchId()).build(),
                        Tag.builder().key("dagy:org").value(dispatch.org().value()).build()));
        if (response.tasks().isEmpty()) {
            String reasons = response.failures().stream().map(f -> f.reason() + (f.detail() == null ? "" : " (" + f.detail() + ")"))
                    .reduce((a, b) -> a + "; " + b).orElse("no task and no failure");
            boolean missing = response.failures().stream().map(Failure::reason).anyMatch("MISSING"::equals);
            throw missing ? misconfigured("RunTask started nothing: " + reasons)
                    : (EcsException) EcsException.builder().message("RunTask started nothing: " + reasons).statusCode(503).build();
        }
        return new Started(response.tasks().get(0).taskArn(), cluster);
    }

    /** A task this dispatch started carries its execution name in {@code startedBy}; if there is none, start it. */
    @Override
    Optional<Started> resume(Dispatch dispatch, String name, Map<String, String> secretValues) {
        String cluster = text(dispatch.spec().backend().config(), "cluster", settings.cluster());
        for (DesiredStatus status : List.of(DesiredStatus.RUNNING, DesiredStatus.STOPPED)) {
            List<String> arns = ecs.listTasks(b -> b.cluster(cluster).startedBy(name).desiredStatus(status)).taskArns();
            if (!arns.isEmpty()) {
                return Optional.of(new Started(arns.get(0), cluster));
            }
        }
        return Optional.of(start(dispatch, name, secretValues));
    }

    @Override
    void stop(String handle, String scope, String reason) {
        ecs.stopTask(b -> b.cluster(scope).task(handle).reason(reason.length() > 255 ? reason.substring(0, 255) : reason));
    }

    /** {@code DAGY_SECRET_} and the name in capitals, every character other than a letter or digit an underscore. */
    static String secretVariable(String secret) {
        return "DAGY_SECRET_" + secret.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    private static KeyValuePair pair(String name, String value) {
        return KeyValuePair.builder().name(name).value(value).build();
    }

    private static String text(Map<String, Object> config, String key, String fallback) {
        return config.get(key) instanceof String value && !value.isBlank() ? value : fallback;
    }

    private static EcsException misconfigured(String message) {
        return (EcsException) EcsException.builder().message(message).statusCode(400).build();
    }
}
