package io.dagy.infra;

import org.junit.jupiter.api.Test;
import software.amazon.awscdk.assertions.Capture;
import software.amazon.awscdk.assertions.Match;
import software.amazon.awscdk.assertions.Template;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The events queue, its redrive to the dead-letter queue, and the three backends' rules that feed it. */
class ReportsTest {

    private final Template develop = Synth.environment("develop").service();
    private final Template production = Synth.environment("production").service();

    @Test
    void unusableReportsAreRedrivenToTheDeadLetterQueue() {
        Capture deadLetters = new Capture();
        develop.hasResourceProperties("AWS::SQS::Queue", Match.objectLike(Map.of(
                "QueueName", "dagy-events-develop",
                "SqsManagedSseEnabled", true,
                "RedrivePolicy", Map.of("deadLetterTargetArn", Map.of("Fn::GetAtt", List.of(deadLetters, "Arn")),
                        "maxReceiveCount", Reports.MAX_RECEIVES))));
        Map<String, Map<String, Object>> dlq = develop.findResources("AWS::SQS::Queue",
                Map.of("Properties", Match.objectLike(Map.of("QueueName", "dagy-events-develop-dlq"))));
        assertThat(dlq.keySet()).containsExactly(deadLetters.asString());
    }

    @Test
    void eachBackendsStateChangesGoToTheQueueWithUndeliverableOnesInTheDeadLetterQueue() {
        Map<String, Object> target = Map.of(
                "Arn", Match.objectLike(Map.of("Fn::GetAtt", Match.arrayWith(List.of(Match.stringLikeRegexp("ReportsEvents.*"))))),
                "DeadLetterConfig", Match.objectLike(Map.of("Arn", Match.objectLike(Map.of("Fn::GetAtt",
                        Match.arrayWith(List.of(Match.stringLikeRegexp("ReportsDeadLetters.*"))))))));
        develop.hasResourceProperties("AWS::Events::Rule", Match.objectLike(Map.of(
                "EventPattern", Map.of("source", List.of("lambda"), "detail-type", List.of(
                        "Lambda Function Invocation Result - Success", "Lambda Function Invocation Result - Failure")),
                "Targets", List.of(Match.objectLike(target)))));
        develop.hasResourceProperties("AWS::Events::Rule", Match.objectLike(Map.of(
                "EventPattern", Map.of("source", List.of("aws.states"),
                        "detail-type", List.of("Step Functions Execution Status Change"),
                        "detail", Map.of("stateMachineArn",
                                List.of("arn:aws:states:us-east-1:123456789012:stateMachine:dagy-task-develop"))),
                "Targets", List.of(Match.objectLike(target)))));
        // develop runs ECS tasks in the service's own cluster; production in the cluster its settings name
        develop.hasResourceProperties("AWS::Events::Rule", Match.objectLike(Map.of(
                "EventPattern", Map.of("source", List.of("aws.ecs"), "detail-type", List.of("ECS Task State Change"),
                        "detail", Map.of("clusterArn", List.of(Map.of("Fn::GetAtt",
                                List.of(Match.stringLikeRegexp("Cluster.*"), "Arn"))))),
                "Targets", List.of(Match.objectLike(target)))));
        production.hasResourceProperties("AWS::Events::Rule", Match.objectLike(Map.of(
                "EventPattern", Match.objectLike(Map.of("source", List.of("aws.ecs"),
                        "detail", Map.of("clusterArn", List.of(Match.objectLike(Map.of("Fn::Join", Match.arrayWith(
                                List.of(Match.arrayWith(List.of(":ecs:us-east-1:987654321098:cluster/dagy-tasks")))))))))))));
    }

    @Test
    void onlyEventBridgeRulesOfThisStackMaySendToTheQueueAndOnlyOverTls() {
        develop.hasResourceProperties("AWS::SQS::QueuePolicy", Match.objectLike(Map.of(
                "Queues", List.of(Map.of("Ref", Match.stringLikeRegexp("ReportsEvents.*"))),
                "PolicyDocument", Match.objectLike(Map.of("Statement", Match.arrayWith(List.of(
                        Match.objectLike(Map.of("Effect", "Deny", "Action", "sqs:*",
                                "Condition", Map.of("Bool", Map.of("aws:SecureTransport", "false")))),
                        Match.objectLike(Map.of("Effect", "Allow",
                                "Principal", Map.of("Service", "events.amazonaws.com"),
                                "Condition", Map.of("ArnEquals", Map.of("aws:SourceArn", Map.of("Fn::GetAtt",
                                        List.of(Match.stringLikeRegexp("ReportsEcsTaskState.*"), "Arn")))))))))))));
    }
}
