package io.dagy.infra;

import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.events.EventPattern;
import software.amazon.awscdk.services.events.Rule;
import software.amazon.awscdk.services.events.targets.SqsQueue;
import software.amazon.awscdk.services.events.targets.SqsQueueProps;
import software.amazon.awscdk.services.sqs.DeadLetterQueue;
import software.amazon.awscdk.services.sqs.Queue;
import software.amazon.awscdk.services.sqs.QueueEncryption;
import software.constructs.Construct;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The events queue through which the AWS backends report, its dead-letter queue, and the EventBridge rules that bring
 * the three backends' state changes onto it (docs/backends.md describes the messages):
 * <ul>
 *     <li>Lambda: the on-success and on-failure destination records of asynchronous invocations, which a function's
 *     destination sends to the default event bus;</li>
 *     <li>Step Functions: {@code Step Functions Execution Status Change} of the configured state machines;</li>
 *     <li>ECS: {@code ECS Task State Change} of the tasks' cluster.</li>
 * </ul>
 * A report the consumer cannot use goes to the dead-letter queue after {@link #MAX_RECEIVES} receives, and so does an
 * event EventBridge could not deliver.
 */
final class Reports extends Construct {

    static final int MAX_RECEIVES = 5;

    private final Queue queue;
    private final Queue deadLetters;

    Reports(Construct scope, String id, Settings settings, String ecsClusterArn) {
        super(scope, id);
        deadLetters = Queue.Builder.create(this, "DeadLetters")
                .queueName(settings.name("events") + "-dlq")
                .retentionPeriod(Duration.days(14))
                .encryption(QueueEncryption.SQS_MANAGED)
                .enforceSsl(true)
                .build();
        queue = Queue.Builder.create(this, "Events")
                .queueName(settings.name("events"))
                .visibilityTimeout(Duration.seconds(120))
                .retentionPeriod(Duration.days(4))
                .encryption(QueueEncryption.SQS_MANAGED)
                .enforceSsl(true)
                .deadLetterQueue(DeadLetterQueue.builder().queue(deadLetters).maxReceiveCount(MAX_RECEIVES).build())
                .build();

        SqsQueue target = new SqsQueue(queue, SqsQueueProps.builder()
                .deadLetterQueue(deadLetters).retryAttempts(8).maxEventAge(Duration.hours(24)).build());
        rule("LambdaResults", settings.name("lambda-results"), EventPattern.builder()
                .source(List.of("lambda"))
                .detailType(List.of("Lambda Function Invocation Result - Success",
                        "Lambda Function Invocation Result - Failure"))
                .build(), target);
        Map<String, Object> executionDetail = new LinkedHashMap<>();
        if (!settings.backends().stateMachines().isEmpty()) {
            executionDetail.put("stateMachineArn", settings.backends().stateMachines());
        }
        rule("StepFunctionsStatus", settings.name("step-functions-status"), EventPattern.builder()
                .source(List.of("aws.states"))
                .detailType(List.of("Step Functions Execution Status Change"))
                .detail(executionDetail.isEmpty() ? null : executionDetail)
                .build(), target);
        rule("EcsTaskState", settings.name("ecs-task-state"), EventPattern.builder()
                .source(List.of("aws.ecs"))
                .detailType(List.of("ECS Task State Change"))
                .detail(Map.of("clusterArn", List.of(ecsClusterArn)))
                .build(), target);
    }

    private void rule(String id, String name, EventPattern pattern, SqsQueue target) {
        Rule.Builder.create(this, id).ruleName(name).eventPattern(pattern).targets(List.of(target)).build();
    }

    Queue queue() {
        return queue;
    }

    Queue deadLetters() {
        return deadLetters;
    }
}
