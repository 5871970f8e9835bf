package io.dagy.gateway.observability;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.net.URI;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The events queue's depth and its dead-letter queue's size, from SQS's approximate counts, read by the metrics
 * poller (every 30 s, two requests). The dead-letter queue is the one the events queue's redrive policy names.
 */
final class QueueDepth {

    static final String DEPTH = "dagy.sqs.queue.depth";
    static final String DEAD_LETTERS = "dagy.sqs.dlq.size";

    private static final Logger log = LoggerFactory.getLogger(QueueDepth.class);
    private static final Pattern TARGET_ARN = Pattern.compile("\"deadLetterTargetArn\"\\s*:\\s*\"arn:[^:]*:sqs:[^:]*:([^:]*):([^\"]+)\"");

    private final SqsClient sqs;
    private final String queueUrl;
    private final AtomicLong visible = new AtomicLong();
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private String deadLetterUrl;
    private boolean failing;

    QueueDepth(SqsClient sqs, URI queueUrl, MeterRegistry registry) {
        this.sqs = sqs;
        this.queueUrl = queueUrl.toString();
        String queue = this.queueUrl.substring(this.queueUrl.lastIndexOf('/') + 1);
        Gauge.builder(DEPTH, visible::get).description("Reports waiting in the events queue (approximate)")
                .tag("queue", queue).tag("state", "visible").register(registry);
        Gauge.builder(DEPTH, inFlight::get).description("Reports waiting in the events queue (approximate)")
                .tag("queue", queue).tag("state", "in_flight").register(registry);
        Gauge.builder(DEAD_LETTERS, deadLetters::get).description("Reports in the events queue's dead-letter queue")
                .tag("queue", queue).register(registry);
    }

    void poll() {
        try {
            Map<QueueAttributeName, String> attributes = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(
                    QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                    QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE,
                    QueueAttributeName.REDRIVE_POLICY)).attributes();
            visible.set(number(attributes.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)));
            inFlight.set(number(attributes.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)));
            if (deadLetterUrl == null) {
                deadLetterUrl = deadLetterUrl(attributes.get(QueueAttributeName.REDRIVE_POLICY));
            }
            if (deadLetterUrl != null) {
                deadLetters.set(number(sqs.getQueueAttributes(b -> b.queueUrl(deadLetterUrl)
                        .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)).attributes()
                        .get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)));
            }
            failing = false;
        } catch (RuntimeException e) {
            if (!failing) {
                log.warn("Queue depth could not be read (the gauges keep their last values): {}", e.toString());
            }
            failing = true;
        }
    }

    private String deadLetterUrl(String redrivePolicy) {
        if (redrivePolicy == null) {
            return null;
        }
        Matcher matcher = TARGET_ARN.matcher(redrivePolicy);
        if (!matcher.find()) {
            return null;
        }
        String account = matcher.group(1);
        String name = matcher.group(2);
        return sqs.getQueueUrl(b -> b.queueName(name).queueOwnerAWSAccountId(account.isBlank() ? null : account)).queueUrl();
    }

    private static long number(String value) {
        return value == null ? 0 : Long.parseLong(value);
    }
}
