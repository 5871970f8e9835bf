package io.dagy.infra;

import io.dagy.tables.DagyTable;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.cloudwatch.Alarm;
import software.amazon.awscdk.services.cloudwatch.ComparisonOperator;
import software.amazon.awscdk.services.cloudwatch.IMetric;
import software.amazon.awscdk.services.cloudwatch.MathExpression;
import software.amazon.awscdk.services.cloudwatch.Metric;
import software.amazon.awscdk.services.cloudwatch.MetricOptions;
import software.amazon.awscdk.services.cloudwatch.TreatMissingData;
import software.amazon.awscdk.services.cloudwatch.actions.SnsAction;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.elasticloadbalancingv2.HttpCodeTarget;
import software.amazon.awscdk.services.elasticloadbalancingv2.IApplicationLoadBalancer;
import software.amazon.awscdk.services.sns.Topic;
import software.amazon.awscdk.services.sns.subscriptions.EmailSubscription;
import software.amazon.awscdk.services.sqs.IQueue;
import software.constructs.Construct;

import java.util.Map;

/**
 * The deployment guide's alarms, adapted to a service behind a load balancer, all to one SNS topic:
 * <ul>
 *     <li>API error rate: 5xx answers of the nodes over requests, above {@code error_rate_percent} for two 5-minute
 *     periods (the guide's Lambda error alarm; Dagy's API is not a Lambda);</li>
 *     <li>DynamoDB throttling, one alarm per table: any read or write throttle event in 5 minutes (on-demand tables
 *     throttle only past a partition's limits, the event store's known ceiling: docs/event-store.md);</li>
 *     <li>events queue age: the oldest report waiting longer than {@code queue_age_seconds} for 3 minutes (the
 *     consumer is stuck or too slow);</li>
 *     <li>dead-letter queue not empty: any report the consumer could not use, or EventBridge could not deliver;</li>
 *     <li>the flow executor function's errors, when one is configured (the guide's Lambda alarm).</li>
 * </ul>
 */
final class Alarms extends Construct {

    private final Topic topic;

    Alarms(Construct scope, String id, Settings settings, IApplicationLoadBalancer loadBalancer,
           Map<DagyTable, Table> tables, IQueue events, IQueue deadLetters) {
        super(scope, id);
        topic = Topic.Builder.create(this, "Topic").topicName(settings.name("alarms")).enforceSsl(true).build();
        settings.alarms().emails().forEach(email -> topic.addSubscription(new EmailSubscription(email)));

        MetricOptions fiveMinutes = MetricOptions.builder().period(Duration.minutes(5)).statistic("Sum").build();
        IMetric errors = loadBalancer.getMetrics().httpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT, fiveMinutes);
        IMetric requests = loadBalancer.getMetrics().requestCount(fiveMinutes);
        alarm("ApiErrorRate", settings.name("api-error-rate"),
                "API 5xx answers above " + settings.alarms().errorRatePercent() + "% of requests",
                MathExpression.Builder.create().expression("IF(requests > 0, 100 * errors / requests, 0)")
                        .usingMetrics(Map.of("errors", errors, "requests", requests))
                        .period(Duration.minutes(5)).label("5xx percent").build(),
                settings.alarms().errorRatePercent(), 2);

        tables.forEach((table, resource) -> alarm("Throttles" + table.name(),
                settings.name("throttles-" + table.name().toLowerCase().replace('_', '-')),
                "DynamoDB throttled requests on " + table.variable(),
                MathExpression.Builder.create().expression("reads + writes")
                        .usingMetrics(Map.of(
                                "reads", resource.metric("ReadThrottleEvents", fiveMinutes),
                                "writes", resource.metric("WriteThrottleEvents", fiveMinutes)))
                        .period(Duration.minutes(5)).label("throttle events").build(),
                0, 1));

        alarm("EventsQueueAge", settings.name("events-queue-age"),
                "Backend reports waiting longer than " + settings.alarms().queueAgeSeconds() + " s",
                events.metricApproximateAgeOfOldestMessage(MetricOptions.builder()
                        .period(Duration.minutes(1)).statistic("Maximum").build()),
                settings.alarms().queueAgeSeconds(), 3);
        alarm("DeadLettersNotEmpty", settings.name("events-dlq-not-empty"),
                "Backend reports in the dead-letter queue (docs/backends.md)",
                deadLetters.metricApproximateNumberOfMessagesVisible(MetricOptions.builder()
                        .period(Duration.minutes(1)).statistic("Maximum").build()),
                0, 1);

        settings.backends().flowExecutorFunction().ifPresent(function -> alarm("FlowExecutorErrors",
                settings.name("flow-executor-errors"), "Errors of the flow executor function",
                Metric.Builder.create().namespace("AWS/Lambda").metricName("Errors")
                        .dimensionsMap(Map.of("FunctionName", function.substring(function.lastIndexOf(':') + 1)))
                        .period(Duration.minutes(5)).statistic("Sum").build(),
                10, 2));
    }

    private void alarm(String id, String name, String description, IMetric metric, double threshold, int periods) {
        Alarm alarm = Alarm.Builder.create(this, id).alarmName(name).alarmDescription(description).metric(metric)
                .threshold(threshold).evaluationPeriods(periods)
                .comparisonOperator(ComparisonOperator.GREATER_THAN_THRESHOLD)
                .treatMissingData(TreatMissingData.NOT_BREACHING).build();
        alarm.addAlarmAction(new SnsAction(topic));
    }

    Topic topic() {
        return topic;
    }
}
