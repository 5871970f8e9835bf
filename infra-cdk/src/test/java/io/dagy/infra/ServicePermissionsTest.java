package io.dagy.infra;

import io.dagy.tables.DagyTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awscdk.assertions.Template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The service's role: exactly its tables, queues, bucket and the backends' resources; no wildcard actions. */
class ServicePermissionsTest {

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void noPolicyOfEitherStackAllowsAWildcardAction(String environment) {
        Synth.Synthesized synthesized = Synth.environment(environment);
        for (Template template : List.of(synthesized.service(), synthesized.images())) {
            for (Map<String, Object> statement : allowStatements(template)) {
                assertThat(actions(statement)).as("%s", statement)
                        .allSatisfy(action -> assertThat(action).doesNotContain("*"));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void onlyTheListedStatementsHaveAWildcardResource(String environment) {
        Map<String, Map<String, Object>> byId = taskRoleStatements(Synth.environment(environment).service());
        List<String> wildcards = byId.entrySet().stream().filter(e -> resources(e.getValue()).contains("*"))
                .map(Map.Entry::getKey).sorted().toList();
        assertThat(wildcards).containsExactlyInAnyOrderElementsOf(ServicePermissions.WILDCARD_RESOURCES.keySet());
        assertThat(byId.get("ListBackendTasks").get("Condition")).isNotNull();
        assertThat(byId.get("PublishMetrics").get("Condition"))
                .isEqualTo(Map.of("StringEquals", Map.of("cloudwatch:namespace", "Dagy")));
    }

    @Test
    void theServiceTouchesExactlyItsOwnTablesQueuesAndBucket() {
        Map<String, Map<String, Object>> byId = taskRoleStatements(Synth.environment("develop").service());
        List<String> tables = resources(byId.get("Tables")).stream().map(ServicePermissionsTest::logicalId).toList();
        assertThat(tables).hasSize(DagyTable.values().length)
                .allSatisfy(id -> assertThat(id).startsWith("Tables"));
        assertThat(tables).doesNotHaveDuplicates();
        assertThat(actions(byId.get("Tables"))).doesNotContain("dynamodb:CreateTable", "dynamodb:DeleteTable");
        assertThat(resources(byId.get("ReceiveReports")).stream().map(ServicePermissionsTest::logicalId))
                .singleElement().asString().startsWith("ReportsEvents");
        assertThat(actions(byId.get("ReceiveReports"))).doesNotContain("sqs:SendMessage");
        assertThat(resources(byId.get("ParkUnusableReports")).stream().map(ServicePermissionsTest::logicalId))
                .singleElement().asString().startsWith("ReportsDeadLetters");
        assertThat(String.valueOf(byId.get("Artifacts").get("Resource"))).contains("Artifacts").endsWith("/*]]}");
        assertThat(String.valueOf(byId.get("AuditReplayTables").get("Resource")))
                .contains("table/dagy-audit-logs-develop-replay-*", "table/dagy-usage-events-develop-replay-*",
                        "table/dagy-usage-aggregates-develop-replay-*");
    }

    @Test
    void theBackendsMayTouchOnlyTheirConfiguredResources() {
        Map<String, Map<String, Object>> byId = taskRoleStatements(Synth.environment("production").service());
        assertThat(resources(byId.get("InvokeTaskFunctions")))
                .containsExactly("arn:aws:lambda:us-east-1:987654321098:function:dagy-task-*");
        assertThat(resources(byId.get("StartExecutions")))
                .containsExactly("arn:aws:states:us-east-1:987654321098:stateMachine:dagy-task-production");
        assertThat(resources(byId.get("StopExecutions")))
                .containsExactly("arn:aws:states:us-east-1:987654321098:execution:dagy-task-production:*");
        assertThat(resources(byId.get("RunTasks")))
                .containsExactly("arn:aws:ecs:us-east-1:987654321098:task-definition/dagy-task-worker:1");
        assertThat(String.valueOf(byId.get("RunTasks").get("Condition"))).contains("ecs:cluster", "cluster/dagy-tasks");
        assertThat(String.valueOf(byId.get("StopTasks").get("Resource"))).contains("task/dagy-tasks/*");
        assertThat(resources(byId.get("PassTaskRoles"))).containsExactly(
                "arn:aws:iam::987654321098:role/dagy-task-worker",
                "arn:aws:iam::987654321098:role/dagy-task-worker-execution");
        assertThat(byId.get("PassTaskRoles").get("Condition"))
                .isEqualTo(Map.of("StringEquals", Map.of("iam:PassedToService", "ecs-tasks.amazonaws.com")));
    }

    @Test
    void theFlowExecutorFunctionIsInvocableByNameAndAFamilyMeansEveryRevision() {
        Map<String, Map<String, Object>> byId = taskRoleStatements(Synth.environment("develop").service());
        assertThat(String.valueOf(byId.get("InvokeTaskFunctions").get("Resource")))
                .contains("arn:aws:lambda:us-east-1:123456789012:function:dagy-task-*")
                .contains(":lambda:us-east-1:123456789012:function:dagy-flow-executor-develop");
        assertThat(resources(byId.get("RunTasks")))
                .containsExactly("arn:aws:ecs:us-east-1:123456789012:task-definition/dagy-task-worker:*");
    }

    @Test
    void aStateMachineArnThatIsNotOneIsRefused() {
        assertThatThrownBy(() -> ServicePermissions.executionsOf("arn:aws:lambda:us-east-1:1:function:x"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(ServicePermissions.anyRevision("arn:aws:ecs:r:1:task-definition/fam:7"))
                .isEqualTo("arn:aws:ecs:r:1:task-definition/fam:7");
    }

    /** The task role's statements by Sid; every one of them has a Sid. */
    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> taskRoleStatements(Template template) {
        Map<String, Map<String, Object>> policies = template.findResources("AWS::IAM::Policy");
        List<Map<String, Object>> statements = new ArrayList<>();
        policies.forEach((id, policy) -> {
            if (id.startsWith("ServiceTaskDefTaskRole")) {
                Map<String, Object> properties = (Map<String, Object>) policy.get("Properties");
                Map<String, Object> document = (Map<String, Object>) properties.get("PolicyDocument");
                statements.addAll((List<Map<String, Object>>) document.get("Statement"));
            }
        });
        assertThat(statements).isNotEmpty().allSatisfy(s -> assertThat(s).containsKey("Sid"));
        return statements.stream().collect(Collectors.toMap(s -> (String) s.get("Sid"), s -> s));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> allowStatements(Template template) {
        List<Map<String, Object>> statements = new ArrayList<>();
        Map<String, Object> resources = (Map<String, Object>) template.toJSON().get("Resources");
        resources.values().forEach(resource -> collect(((Map<String, Object>) resource).get("Properties"), statements));
        assertThat(statements).isNotEmpty();
        return statements;
    }

    /** Every IAM-shaped statement anywhere in a resource's properties (policies, roles, resource policies). */
    @SuppressWarnings("unchecked")
    private static void collect(Object node, List<Map<String, Object>> statements) {
        if (node instanceof Map<?, ?> map) {
            if (map.containsKey("Effect") && map.containsKey("Action") && "Allow".equals(map.get("Effect"))) {
                statements.add((Map<String, Object>) map);
            }
            map.values().forEach(value -> collect(value, statements));
        } else if (node instanceof List<?> list) {
            list.forEach(value -> collect(value, statements));
        }
    }

    private static List<String> actions(Map<String, Object> statement) {
        Object action = statement.get("Action");
        return action instanceof List<?> list ? list.stream().map(String::valueOf).toList() : List.of(String.valueOf(action));
    }

    private static List<Object> resources(Map<String, Object> statement) {
        Object resource = statement.get("Resource");
        return resource instanceof List<?> list ? List.copyOf(list) : List.of(resource);
    }

    @SuppressWarnings("unchecked")
    private static String logicalId(Object resource) {
        Map<String, Object> ref = (Map<String, Object>) resource;
        return String.valueOf(((List<Object>) ref.get("Fn::GetAtt")).get(0));
    }
}
