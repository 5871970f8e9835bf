package io.dagy.infra;

import io.dagy.tables.DagyTable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awscdk.assertions.Match;
import software.amazon.awscdk.assertions.Template;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The guide's alarms: API error rate, DynamoDB throttling per table, queue age, dead-letter queue not empty. */
class AlarmsTest {

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void theQueueAlarmsWatchTheRightQueues(String environment) {
        Template template = Synth.environment(environment).service();
        Settings.Alarms settings = Synth.environment(environment).settings().alarms();
        template.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
                "AlarmName", "dagy-events-queue-age-" + environment,
                "MetricName", "ApproximateAgeOfOldestMessage", "Namespace", "AWS/SQS",
                "Threshold", settings.queueAgeSeconds(),
                "Dimensions", List.of(Map.of("Name", "QueueName",
                        "Value", Map.of("Fn::GetAtt", List.of(Match.stringLikeRegexp("ReportsEvents.*"), "QueueName")))))));
        template.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
                "AlarmName", "dagy-events-dlq-not-empty-" + environment,
                "MetricName", "ApproximateNumberOfMessagesVisible", "Threshold", 0,
                "ComparisonOperator", "GreaterThanThreshold",
                "Dimensions", List.of(Map.of("Name", "QueueName", "Value",
                        Map.of("Fn::GetAtt", List.of(Match.stringLikeRegexp("ReportsDeadLetters.*"), "QueueName")))))));
    }

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void everyTableHasAThrottlingAlarmAndTheApiAnErrorRateAlarm(String environment) {
        Template template = Synth.environment(environment).service();
        for (DagyTable table : DagyTable.values()) {
            template.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
                    "AlarmName", "dagy-throttles-" + table.name().toLowerCase().replace('_', '-') + "-" + environment,
                    "Metrics", Match.arrayWith(List.of(
                            Match.objectLike(Map.of("Id", "reads", "MetricStat", Match.objectLike(Map.of("Metric",
                                    Match.objectLike(Map.of("MetricName", "ReadThrottleEvents", "Dimensions", List.of(
                                            Map.of("Name", "TableName", "Value", Map.of("Ref",
                                                    Match.stringLikeRegexp("Tables" + table.name().replace("_", "")
                                                            + "[0-9A-F]{8}")))))))))))))));
        }
        template.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
                "AlarmName", "dagy-api-error-rate-" + environment,
                "Threshold", Synth.environment(environment).settings().alarms().errorRatePercent(),
                "Metrics", Match.arrayWith(List.of(Match.objectLike(Map.of(
                        "Expression", "IF(requests > 0, 100 * errors / requests, 0)")))))));
    }

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void everyAlarmNotifiesTheAlarmTopic(String environment) {
        Map<String, Map<String, Object>> alarms = Synth.environment(environment).service()
                .findResources("AWS::CloudWatch::Alarm");
        assertThat(alarms).hasSizeGreaterThanOrEqualTo(DagyTable.values().length + 3);
        alarms.forEach((id, alarm) -> assertThat(String.valueOf(alarm.get("Properties"))).as(id)
                .containsPattern("AlarmActions=\\[\\{Ref=AlarmsTopic[0-9A-F]{8}}]"));
    }
}
