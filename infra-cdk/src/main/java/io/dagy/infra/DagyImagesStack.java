package io.dagy.infra;

import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.ecr.LifecycleRule;
import software.amazon.awscdk.services.ecr.Repository;
import software.amazon.awscdk.services.ecr.TagMutability;
import software.amazon.awscdk.services.iam.ArnPrincipal;
import software.constructs.Construct;

import java.util.List;

/**
 * The ECR repository of the Dagy service image, in its own stack: it must exist, and hold the image, before the
 * service stack's first deployment can start a node (docs/deploy-aws.md, steps 3 and 4).
 */
public final class DagyImagesStack extends Stack {

    public DagyImagesStack(Construct scope, String id, StackProps props, Settings settings) {
        super(scope, id, props);
        Repository repository = Repository.Builder.create(this, "Repository")
                .repositoryName(settings.service().ecrRepositoryName())
                .imageScanOnPush(true)
                .imageTagMutability(TagMutability.MUTABLE)
                .lifecycleRules(List.of(LifecycleRule.builder().description("keep the last 30 images")
                        .maxImageCount(30).build()))
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        settings.service().ecrPushPrincipals().forEach(principal ->
                repository.grantPullPush(new ArnPrincipal(principal)));
        CfnOutput.Builder.create(this, "RepositoryUri").value(repository.getRepositoryUri()).build();
    }
}
