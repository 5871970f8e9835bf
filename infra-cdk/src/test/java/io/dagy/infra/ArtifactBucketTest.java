package io.dagy.infra;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awscdk.assertions.Match;
import software.amazon.awscdk.assertions.Template;

import java.util.List;
import java.util.Map;

/** The artifact bucket: versioned, old versions expire after 90 days, encrypted, never public, TLS only. */
class ArtifactBucketTest {

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void theBucketIsVersionedEncryptedPrivateAndExpiresOldVersions(String environment) {
        Synth.Synthesized synthesized = Synth.environment(environment);
        Template template = synthesized.service();
        template.resourceCountIs("AWS::S3::Bucket", 1);
        template.hasResource("AWS::S3::Bucket", Match.objectLike(Map.of("DeletionPolicy", "Retain",
                "Properties", Match.objectLike(Map.of(
                        "BucketName", "dagy-artifacts-" + synthesized.settings().account() + "-" + synthesized.settings().region()
                                + "-" + environment,
                        "VersioningConfiguration", Map.of("Status", "Enabled"),
                        "BucketEncryption", Map.of("ServerSideEncryptionConfiguration", List.of(Map.of(
                                "ServerSideEncryptionByDefault", Map.of("SSEAlgorithm", "AES256")))),
                        "PublicAccessBlockConfiguration", Map.of("BlockPublicAcls", true, "BlockPublicPolicy", true,
                                "IgnorePublicAcls", true, "RestrictPublicBuckets", true),
                        "LifecycleConfiguration", Map.of("Rules", List.of(Match.objectLike(Map.of(
                                "Status", "Enabled",
                                "NoncurrentVersionExpiration", Map.of("NoncurrentDays", 90))))))))));
    }

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void theBucketPolicyRefusesEveryRequestWithoutTls(String environment) {
        Synth.environment(environment).service().hasResourceProperties("AWS::S3::BucketPolicy", Match.objectLike(Map.of(
                "PolicyDocument", Match.objectLike(Map.of("Statement", List.of(Map.of(
                        "Effect", "Deny",
                        "Principal", Map.of("AWS", "*"),
                        "Action", "s3:*",
                        "Condition", Map.of("Bool", Map.of("aws:SecureTransport", "false")),
                        "Resource", List.of(
                                Map.of("Fn::GetAtt", List.of(Match.stringLikeRegexp("Artifacts.*"), "Arn")),
                                Map.of("Fn::Join", List.of("", List.of(
                                        Map.of("Fn::GetAtt", List.of(Match.stringLikeRegexp("Artifacts.*"), "Arn")),
                                        "/*")))))))))));
    }
}
