package io.dagy.infra;

import io.dagy.tables.DagyTable;
import software.amazon.awscdk.ArnComponents;
import software.amazon.awscdk.ArnFormat;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.iam.IGrantable;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.s3.IBucket;
import software.amazon.awscdk.services.sqs.IQueue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the Dagy service's task role may do: exactly its tables, its queues, its bucket and the backends' configured
 * resources. Every statement has a {@code Sid} so tests and reviewers can find it. The resources that must be
 * {@code *} because the AWS API has no resource-level permission are in {@link #WILDCARD_RESOURCES}, each with a
 * condition that narrows it where the API offers one.
 */
final class ServicePermissions {

    /** Statement ids whose resource is {@code *}, and why (docs/deploy-aws.md repeats this list). */
    static final Map<String, String> WILDCARD_RESOURCES = Map.of(
            "ListTablesForAuditReplay", "dynamodb:ListTables has no resource-level permission; an audit replay lists"
                    + " tables before it creates its own (TableBootstrap)",
            "ListBackendTasks", "ecs:ListTasks is authorised on the cluster only through the ecs:cluster condition",
            "PublishMetrics", "cloudwatch:PutMetricData has no resource-level permission; limited to the Dagy namespace");

    static final String METRICS_NAMESPACE = "Dagy";

    static final List<String> TABLE_ACTIONS = List.of("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
            "dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
            "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable");

    private ServicePermissions() {
    }

    static List<PolicyStatement> statements(Settings settings, Stack stack, Map<DagyTable, Table> tables,
                                            IQueue events, IQueue deadLetters, IBucket bucket, String clusterName,
                                            String clusterArn) {
        List<PolicyStatement> statements = new ArrayList<>();
        statements.add(allow("Tables", TABLE_ACTIONS,
                tables.values().stream().map(Table::getTableArn).toList()));

        // an audit replay (docs/audit.md) projects into fresh tables <live table>-replay-<job> and deletes them after
        List<String> replayTables = List.of(DagyTable.AUDIT_LOGS, DagyTable.USAGE_EVENTS, DagyTable.USAGE_AGGREGATES)
                .stream().map(t -> stack.formatArn(arn("dynamodb", "table",
                        t.defaultName(settings.environment()) + "-replay-*"))).toList();
        List<String> replayActions = new ArrayList<>(TABLE_ACTIONS);
        replayActions.addAll(List.of("dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTimeToLive",
                "dynamodb:UpdateTimeToLive"));
        statements.add(allow("AuditReplayTables", replayActions, replayTables));
        statements.add(allow("ListTablesForAuditReplay", List.of("dynamodb:ListTables"), List.of("*")));

        statements.add(allow("ReceiveReports", List.of("sqs:ReceiveMessage", "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"), List.of(events.getQueueArn())));
        statements.add(allow("ParkUnusableReports", List.of("sqs:SendMessage", "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl"), List.of(deadLetters.getQueueArn())));

        statements.add(allow("Artifacts", List.of("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
                List.of(bucket.arnForObjects("*"))));
        statements.add(allow("ArtifactBucket", List.of("s3:ListBucket"), List.of(bucket.getBucketArn())));

        Settings.Backends backends = settings.backends();
        List<String> functions = new ArrayList<>(backends.lambdaFunctions());
        backends.flowExecutorFunction().map(f -> functionArn(stack, f)).filter(f -> !functions.contains(f))
                .ifPresent(functions::add);
        if (!functions.isEmpty()) {
            statements.add(allow("InvokeTaskFunctions", List.of("lambda:InvokeFunction"), functions));
        }
        if (!backends.stateMachines().isEmpty()) {
            statements.add(allow("StartExecutions", List.of("states:StartExecution"), backends.stateMachines()));
            statements.add(allow("StopExecutions", List.of("states:StopExecution", "states:DescribeExecution"),
                    backends.stateMachines().stream().map(ServicePermissions::executionsOf).toList()));
        }
        if (!backends.ecsTaskDefinitions().isEmpty()) {
            Map<String, Object> inCluster = Map.of("ArnEquals", Map.of("ecs:cluster", clusterArn));
            statements.add(allow("RunTasks", List.of("ecs:RunTask"),
                    backends.ecsTaskDefinitions().stream().map(ServicePermissions::anyRevision).toList(), inCluster));
            String tasks = stack.formatArn(arn("ecs", "task", clusterName + "/*"));
            statements.add(allow("StopTasks", List.of("ecs:StopTask", "ecs:DescribeTasks"), List.of(tasks), inCluster));
            statements.add(allow("TagStartedTasks", List.of("ecs:TagResource"), List.of(tasks),
                    Map.of("StringEquals", Map.of("ecs:CreateAction", "RunTask"))));
            statements.add(allow("ListBackendTasks", List.of("ecs:ListTasks"), List.of("*"), inCluster));
            statements.add(allow("PassTaskRoles", List.of("iam:PassRole"), backends.ecsTaskRoles(),
                    Map.of("StringEquals", Map.of("iam:PassedToService", "ecs-tasks.amazonaws.com"))));
        }
        statements.add(allow("PublishMetrics", List.of("cloudwatch:PutMetricData"), List.of("*"),
                Map.of("StringEquals", Map.of("cloudwatch:namespace", METRICS_NAMESPACE))));
        return statements;
    }

    static void grant(IGrantable role, List<PolicyStatement> statements) {
        statements.forEach(role.getGrantPrincipal()::addToPrincipalPolicy);
    }

    /** A function name or ARN as the ARN IAM compares. */
    static String functionArn(Stack stack, String function) {
        return function.startsWith("arn:") ? function : stack.formatArn(arn("lambda", "function", function));
    }

    /** {@code ...:stateMachine:NAME} to {@code ...:execution:NAME:*}, the ARNs StopExecution acts on. */
    static String executionsOf(String stateMachineArn) {
        int marker = stateMachineArn.indexOf(":stateMachine:");
        if (marker < 0) {
            throw new IllegalArgumentException("Not a state machine ARN: " + stateMachineArn);
        }
        return stateMachineArn.substring(0, marker) + ":execution:"
                + stateMachineArn.substring(marker + ":stateMachine:".length()) + ":*";
    }

    /** A task definition ARN without a revision stands for all of its family's revisions. */
    static String anyRevision(String taskDefinitionArn) {
        String family = taskDefinitionArn.substring(taskDefinitionArn.lastIndexOf('/') + 1);
        return family.contains(":") ? taskDefinitionArn : taskDefinitionArn + ":*";
    }

    static ArnComponents arn(String service, String resource, String name) {
        boolean colon = service.equals("lambda");
        return ArnComponents.builder().service(service).resource(resource).resourceName(name)
                .arnFormat(colon ? ArnFormat.COLON_RESOURCE_NAME
                        : ArnFormat.SLASH_RESOURCE_NAME)
                .build();
    }

    private static PolicyStatement allow(String sid, List<String> actions, List<String> resources) {
        return allow(sid, actions, resources, Map.of());
    }

    private static PolicyStatement allow(String sid, List<String> actions, List<String> resources,
                                         Map<String, Object> conditions) {
        PolicyStatement.Builder statement = PolicyStatement.Builder.create().sid(sid).actions(actions).resources(resources);
        if (!conditions.isEmpty()) {
            statement.conditions(conditions);
        }
        return statement.build();
    }
}
