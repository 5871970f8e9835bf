package io.dagy.infra;

import io.dagy.tables.DagyTable;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.certificatemanager.Certificate;
import software.amazon.awscdk.services.ec2.ISecurityGroup;
import software.amazon.awscdk.services.ec2.IVpc;
import software.amazon.awscdk.services.ec2.SecurityGroup;
import software.amazon.awscdk.services.ec2.Subnet;
import software.amazon.awscdk.services.ec2.SubnetConfiguration;
import software.amazon.awscdk.services.ec2.SubnetSelection;
import software.amazon.awscdk.services.ec2.SubnetType;
import software.amazon.awscdk.services.ec2.Vpc;
import software.amazon.awscdk.services.ec2.VpcLookupOptions;
import software.amazon.awscdk.services.ecr.Repository;
import software.amazon.awscdk.services.ecs.Cluster;
import software.amazon.awscdk.services.ecs.ContainerImage;
import software.amazon.awscdk.services.ecs.ContainerInsights;
import software.amazon.awscdk.services.ecs.DeploymentCircuitBreaker;
import software.amazon.awscdk.services.ecs.LogDriver;
import software.amazon.awscdk.services.ecs.AwsLogDriverProps;
import software.amazon.awscdk.services.ecs.CfnTaskDefinition;
import software.amazon.awscdk.services.ecs.Secret;
import software.amazon.awscdk.services.ecs.patterns.ApplicationLoadBalancedFargateService;
import software.amazon.awscdk.services.ecs.patterns.ApplicationLoadBalancedTaskImageOptions;
import software.amazon.awscdk.services.elasticloadbalancingv2.ApplicationProtocol;
import software.amazon.awscdk.services.elasticloadbalancingv2.HealthCheck;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.amazon.awscdk.services.s3.BlockPublicAccess;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.s3.BucketEncryption;
import software.amazon.awscdk.services.s3.LifecycleRule;
import software.amazon.awscdk.services.secretsmanager.ISecret;
import software.constructs.Construct;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One Dagy environment: every table of the catalogue, the events queue and its dead-letter queue with the EventBridge
 * rules of the three backends, the artifact bucket, the Dagy service (ECS Fargate behind an application load
 * balancer: a long-running JVM with event processors, deadlines and the report consumer, which a request-scoped
 * Lambda cannot host; decision 62), its least-privilege role, and the alarms. docs/deploy-aws.md walks through it.
 */
public final class DagyStack extends Stack {

    static final int STOP_TIMEOUT_SECONDS = 60;

    public DagyStack(Construct scope, String id, StackProps props, Settings settings) {
        super(scope, id, props);
        Tables tables = new Tables(this, "Tables", settings);

        Bucket artifacts = Bucket.Builder.create(this, "Artifacts")
                .bucketName("dagy-artifacts-" + settings.account() + "-" + settings.region() + "-" + settings.environment())
                .versioned(true)
                .encryption(BucketEncryption.S3_MANAGED)
                .blockPublicAccess(BlockPublicAccess.BLOCK_ALL)
                .enforceSsl(true)
                .lifecycleRules(List.of(LifecycleRule.builder().id("expire-old-versions")
                        .noncurrentVersionExpiration(Duration.days(90))
                        .abortIncompleteMultipartUploadAfter(Duration.days(7)).build()))
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();

        IVpc vpc = settings.service().vpcId()
                .map(vpcId -> Vpc.fromLookup(this, "Vpc", VpcLookupOptions.builder().vpcId(vpcId).build()))
                .orElseGet(() -> Vpc.Builder.create(this, "Vpc").vpcName(settings.name("vpc")).maxAzs(2)
                        .natGateways(settings.production() ? 2 : 1)
                        .subnetConfiguration(List.of(
                                SubnetConfiguration.builder().name("public").subnetType(SubnetType.PUBLIC).build(),
                                SubnetConfiguration.builder().name("private")
                                        .subnetType(SubnetType.PRIVATE_WITH_EGRESS).build()))
                        .build());
        SubnetSelection serviceSubnets = settings.service().subnetIds().isEmpty()
                ? SubnetSelection.builder().subnetType(SubnetType.PRIVATE_WITH_EGRESS).build()
                : SubnetSelection.builder().subnets(settings.service().subnetIds().stream()
                        .map(subnetId -> Subnet.fromSubnetId(this, "Subnet-" + subnetId, subnetId)).toList()).build();

        Cluster cluster = Cluster.Builder.create(this, "Cluster").clusterName(settings.name("cluster")).vpc(vpc)
                .containerInsightsV2(ContainerInsights.ENABLED).build();
        String tasksClusterName = settings.backends().ecsClusterName().orElse(settings.name("cluster"));
        String tasksClusterArn = settings.backends().ecsClusterName()
                .map(name -> formatArn(ServicePermissions.arn("ecs", "cluster", name)))
                .orElse(cluster.getClusterArn());

        Reports reports = new Reports(this, "Reports", settings, tasksClusterArn);

        // ECS backend tasks: their own security group (egress only) unless the settings name some
        String taskSecurityGroups = String.join(",", settings.backends().ecsSecurityGroups());
        if (taskSecurityGroups.isEmpty()) {
            taskSecurityGroups = SecurityGroup.Builder.create(this, "BackendTasks").vpc(vpc)
                    .description("Dagy ECS backend tasks: outbound only").allowAllOutbound(true).build()
                    .getSecurityGroupId();
        }
        String taskSubnets = settings.backends().ecsSubnets().isEmpty()
                ? String.join(",", vpc.selectSubnets(serviceSubnets).getSubnetIds())
                : String.join(",", settings.backends().ecsSubnets());

        Map<String, Secret> secrets = new LinkedHashMap<>();
        settings.secrets().forEach((variable, secretName) -> {
            ISecret secret = software.amazon.awscdk.services.secretsmanager.Secret.fromSecretNameV2(this,
                    "Secret-" + variable, secretName); // ecs.Secret and secretsmanager.Secret share a name
            secrets.put(variable, Secret.fromSecretsManager(secret));
        });

        LogGroup logs = LogGroup.Builder.create(this, "Logs").logGroupName("/dagy/" + settings.environment())
                .retention(settings.production() ? RetentionDays.SIX_MONTHS : RetentionDays.ONE_MONTH)
                .removalPolicy(settings.production() ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY).build();

        List<ISecurityGroup> extraGroups = new ArrayList<>();
        settings.service().securityGroupIds().forEach(groupId ->
                extraGroups.add(SecurityGroup.fromSecurityGroupId(this, "Group-" + groupId, groupId)));

        ApplicationLoadBalancedFargateService.Builder serviceBuilder = ApplicationLoadBalancedFargateService.Builder
                .create(this, "Service")
                .serviceName(settings.name("service"))
                .cluster(cluster)
                .desiredCount(settings.service().desiredCount())
                .cpu(settings.service().cpu())
                .memoryLimitMiB(settings.service().memoryMib())
                .taskSubnets(serviceSubnets)
                .publicLoadBalancer(true)
                .minHealthyPercent(100)
                .maxHealthyPercent(200)
                .circuitBreaker(DeploymentCircuitBreaker.builder().rollback(true).build())
                .healthCheckGracePeriod(Duration.seconds(180))
                .taskImageOptions(ApplicationLoadBalancedTaskImageOptions.builder()
                        .containerName("dagy")
                        .image(ContainerImage.fromEcrRepository(Repository.fromRepositoryName(this, "Images",
                                settings.service().ecrRepositoryName()), settings.service().imageTag()))
                        .containerPort(ServiceEnvironment.PORT)
                        .environment(ServiceEnvironment.of(settings, getRegion(), tables.all(),
                                artifacts.getBucketName(), reports.queue().getQueueUrl(), tasksClusterArn, taskSubnets,
                                taskSecurityGroups))
                        .secrets(secrets)
                        .logDriver(LogDriver.awsLogs(AwsLogDriverProps.builder().logGroup(logs).streamPrefix("dagy").build()))
                        .build());
        if (!extraGroups.isEmpty()) {
            serviceBuilder.securityGroups(extraGroups);
        }
        settings.service().certificateArn().ifPresent(arn -> serviceBuilder
                .certificate(Certificate.fromCertificateArn(this, "Certificate", arn))
                .protocol(ApplicationProtocol.HTTPS).redirectHttp(true));
        ApplicationLoadBalancedFargateService service = serviceBuilder.build();
        service.getTargetGroup().configureHealthCheck(HealthCheck.builder().path("/health")
                .healthyHttpCodes("200").interval(Duration.seconds(15)).build());
        service.getTargetGroup().setAttribute("deregistration_delay.timeout_seconds", "30");
        // a stopping node finishes its requests, releases its segments and deadlines (Spring's graceful shutdown takes
        // up to 30 s): give it 60 s after SIGTERM before ECS kills it (Fargate allows 120)
        ((CfnTaskDefinition) service.getTaskDefinition().getNode().getDefaultChild())
                .addPropertyOverride("ContainerDefinitions.0.StopTimeout", STOP_TIMEOUT_SECONDS);

        ServicePermissions.grant(service.getTaskDefinition().getTaskRole(), ServicePermissions.statements(settings, this,
                tables.all(), reports.queue(), reports.deadLetters(), artifacts, tasksClusterName, tasksClusterArn));

        Alarms alarms = new Alarms(this, "Alarms", settings, service.getLoadBalancer(), tables.all(), reports.queue(),
                reports.deadLetters());

        output("ApiEndpoint", (settings.service().certificateArn().isPresent() ? "https://" : "http://")
                + service.getLoadBalancer().getLoadBalancerDnsName());
        tables.all().forEach((table, resource) -> output(outputName(table), resource.getTableName()));
        output("ArtifactBucketName", artifacts.getBucketName());
        output("EventsQueueURL", reports.queue().getQueueUrl());
        output("EventsDeadLetterQueueURL", reports.deadLetters().getQueueUrl());
        output("ClusterName", cluster.getClusterName());
        output("AlarmTopicArn", alarms.topic().getTopicArn());
    }

    /** {@code TASK_RUNS} to {@code TaskRunsTableName}, the guide's output names. */
    static String outputName(DagyTable table) {
        StringBuilder name = new StringBuilder();
        for (String part : table.name().split("_")) {
            name.append(part.charAt(0)).append(part.substring(1).toLowerCase());
        }
        return name.append("TableName").toString();
    }

    private void output(String id, String value) {
        CfnOutput.Builder.create(this, id).value(value).build();
    }
}
