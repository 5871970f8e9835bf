package io.dagy.infra;

import io.dagy.tables.DagyTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awscdk.assertions.Annotations;
import software.amazon.awscdk.assertions.Match;
import software.amazon.awscdk.assertions.Template;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The Dagy service: Fargate behind a load balancer, every DAGY_* variable wired, secrets only from Secrets Manager. */
class ServiceTest {

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void everyTableBucketAndQueueVariableNamesTheResourceOfThisStack(String environment) {
        Settings settings = Synth.environment(environment).settings();
        Map<String, Object> env = environment(Synth.environment(environment).service());
        assertThat(env).containsEntry("SPRING_PROFILES_ACTIVE", "aws").containsEntry("DAGY_ENVIRONMENT", environment)
                .containsEntry("DAGY_LOCAL_BACKEND_ENABLED", "false");
        for (DagyTable table : DagyTable.values()) {
            // the logical id of a table is Tables<ENUM NAME without underscores><hash>
            assertThat(env.get(table.variable())).as(table.variable()).isInstanceOfSatisfying(Map.class, ref ->
                    assertThat(String.valueOf(ref.get("Ref"))).matches("Tables" + table.name().replace("_", "") + "[0-9A-F]{8}"));
        }
        assertThat(String.valueOf(env.get("DAGY_ARTIFACT_BUCKET"))).startsWith("{Ref=Artifacts");
        assertThat(String.valueOf(env.get("DAGY_EVENTS_QUEUE_URL"))).startsWith("{Ref=ReportsEvents");
        // ECS tasks run in the service's cluster unless the settings name one
        assertThat(String.valueOf(env.get("DAGY_ECS_CLUSTER"))).contains(settings.backends().ecsClusterName()
                .map(name -> ":ecs:" + settings.region() + ":" + settings.account() + ":cluster/" + name)
                .orElse("{Fn::GetAtt=[Cluster"));
        assertThat(env.get("DAGY_FLOW_EXECUTOR_FUNCTION")).isEqualTo(settings.backends().flowExecutorFunction()
                .orElse(null));
        assertThat(env.get("DAGY_ECS_CONTAINER")).isEqualTo(settings.backends().ecsContainer().orElse(null));
    }

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void secretsComeFromSecretsManagerAndNeverAsPlainVariables(String environment) {
        Synth.Synthesized synthesized = Synth.environment(environment);
        Map<String, Object> container = container(synthesized.service());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> secrets = (List<Map<String, Object>>) container.get("Secrets");
        Map<String, String> valueFrom = secrets.stream().collect(Collectors.toMap(s -> (String) s.get("Name"),
                s -> String.valueOf(s.get("ValueFrom"))));
        assertThat(valueFrom).containsOnlyKeys(synthesized.settings().secrets().keySet()).containsKey("DAGY_SECRETS_KEY");
        assertThat(valueFrom.get("DAGY_SECRETS_KEY"))
                .contains(":secretsmanager:" + synthesized.settings().region() + ":" + synthesized.settings().account() + ":secret:dagy/" + environment
                        + "/DAGY_SECRETS_KEY");
        assertThat(environment(synthesized.service())).doesNotContainKeys("DAGY_SECRETS_KEY",
                "DAGY_CLERK_WEBHOOK_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET");
    }

    @Test
    void productionListensOnHttpsAndRequiresJwtsFromItsIssuer() {
        Template template = Synth.environment("production").service();
        template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", Match.objectLike(Map.of(
                "Protocol", "HTTPS", "Port", 443)));
        template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", Match.objectLike(Map.of(
                "Protocol", "HTTP", "Port", 80,
                "DefaultActions", List.of(Match.objectLike(Map.of("Type", "redirect"))))));
        assertThat(environment(template)).containsEntry("DAGY_JWT_REQUIRED", "true")
                .containsEntry("DAGY_JWT_ISSUER", "https://your-auth-provider.com")
                .containsEntry("DAGY_JWT_AUDIENCE", "dagy-api")
                .containsEntry("DAGY_EVENT_SHARDS", "8");
        template.hasResourceProperties("AWS::ECS::Service", Match.objectLike(Map.of("DesiredCount", 3)));
    }

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void theLoadBalancerChecksHealthAndTheStacksHaveNoErrors(String environment) throws Exception {
        Synth.Synthesized synthesized = Synth.environment(environment);
        synthesized.service().hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", Match.objectLike(Map.of(
                "HealthCheckPath", "/health", "TargetType", "ip")));
        synthesized.service().hasResourceProperties("AWS::ECS::Service", Match.objectLike(Map.of(
                "LoadBalancers", List.of(Match.objectLike(Map.of("ContainerName", "dagy",
                        "ContainerPort", ServiceEnvironment.PORT))))));
        assertThat(container(synthesized.service())).containsEntry("StopTimeout", DagyStack.STOP_TIMEOUT_SECONDS);
        Annotations.fromStack(synthesized.stacks().service()).hasNoError("*", Match.anyValue());
        Annotations.fromStack(synthesized.stacks().images()).hasNoError("*", Match.anyValue());
        // the build leaves the synthesized templates in target/cdk.out, never in the repository
        assertThat(Files.readString(Synth.OUT.resolve(environment).resolve("dagy-" + environment + ".template.json")))
                .contains("\"dagy-events-" + environment + "\"");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> container(Template template) {
        Map<String, Map<String, Object>> definitions = template.findResources("AWS::ECS::TaskDefinition");
        assertThat(definitions).hasSize(1);
        Map<String, Object> properties = (Map<String, Object>) definitions.values().iterator().next().get("Properties");
        return ((List<Map<String, Object>>) properties.get("ContainerDefinitions")).get(0);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> environment(Template template) {
        return ((List<Map<String, Object>>) container(template).get("Environment")).stream()
                .collect(Collectors.toMap(e -> (String) e.get("Name"), e -> e.get("Value")));
    }
}
