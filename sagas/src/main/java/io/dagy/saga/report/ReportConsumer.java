package io.dagy.saga.report;

import io.dagy.contracts.run.TaskRunCommands.CompleteTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.FailTaskAttempt;
import io.dagy.contracts.run.TaskRunCommands.RecordHeartbeat;
import io.dagy.contracts.run.TaskRunCommands.StartTaskAttempt;
import io.dagy.contracts.run.TaskRunId;
import io.dagy.saga.backend.aws.AwsStateChanges;
import org.axonframework.commandhandling.CommandExecutionException;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.modelling.command.AggregateNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns backend reports from the SQS events queue into commands on task runs: Dagy's own report shape, and the AWS
 * state changes that {@link AwsStateChanges} translates into it. A report is deleted once its command succeeded (a
 * repeated report is a no-op there). A report that can never be processed (not JSON, an unknown dispatch id or
 * execution name, an attempt that does not exist) is moved to the queue's dead-letter queue (from its redrive policy)
 * with the reason in the message attribute {@code dagy_reason}; a queue without one releases it at once, so after the
 * receive limit SQS moves it there. Never lost, never blocking the queue. Any other failure leaves it for a later
 * receive.
 */
public final class ReportConsumer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReportConsumer.class);

    private final SqsClient sqs;
    private final URI queueUrl;
    private final CommandGateway commands;
    private final JsonMapper json;
    private final int waitSeconds;
    private final AwsStateChanges stateChanges;
    private volatile boolean running;
    /** Started pollers end when it moves: a receive left waiting by close does not poll on after a restart. */
    private volatile int generation;
    /** Pollers handling what they received (close waits for them, not for a receive). */
    private final AtomicInteger handling = new AtomicInteger();
    private volatile String deadLetterQueueUrl;

    public ReportConsumer(SqsClient sqs, URI queueUrl, CommandGateway commands, JsonMapper json, int waitSeconds) {
        this(sqs, queueUrl, commands, json, waitSeconds, null);
    }

    /** With {@code stateChanges}, AWS state changes on the queue are reports too. */
    public ReportConsumer(SqsClient sqs, URI queueUrl, CommandGateway commands, JsonMapper json, int waitSeconds,
                          AwsStateChanges stateChanges) {
        this.stateChanges = stateChanges;
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.commands = commands;
        this.json = json;
        this.waitSeconds = waitSeconds;
    }

    public synchronized void start(int threads) {
        if (running) {
            return;
        }
        running = true;
        int mine = ++generation;
        for (int i = 0; i < threads; i++) {
            Thread poller = new Thread(() -> poll(mine), "report-consumer-" + i);
            poller.setDaemon(true);
            poller.start();
        }
    }

    private void poll(int started) {
        int failures = 0;
        while (running && generation == started) {
            try {
                List<Message> messages = sqs.receiveMessage(b -> b.queueUrl(queueUrl.toString())
                        .maxNumberOfMessages(10).waitTimeSeconds(waitSeconds)).messages();
                if (failures > 0) {
                    log.info("Receiving backend reports works again after {} failed attempts", failures);
                    failures = 0;
                }
                handling.incrementAndGet();
                try {
                    for (Message message : messages) {
                        if (running) {
                            handle(message);
                        } else {
                            release(message); // stopping: let another node take it now rather than after the timeout
                        }
                    }
                } finally {
                    handling.decrementAndGet();
                }
            } catch (RuntimeException e) {
                if (running) {
                    // an outage fails every receive: say so once, and wait longer between attempts meanwhile
                    if (failures++ == 0) {
                        log.warn("Receiving backend reports failed ({}); retrying with back-off, logged again when it "
                                + "works", e.toString());
                    } else {
                        log.debug("Receiving backend reports failed again", e);
                    }
                    pause(Math.min(5_000L, 500L << Math.min(failures, 10)));
                }
            }
        }
    }

    void handle(Message message) {
        try {
            Object command = command(message.body());
            if (command != null) {
                commands.sendAndWait(command);
            }
            delete(message);
        } catch (UnprocessableReport | AggregateNotFoundException | CommandExecutionException refused) {
            log.warn("Backend report {} cannot be processed ({}); it goes to the dead-letter queue",
                    message.messageId(), refused.getMessage());
            deadLetter(message, refused.getMessage());
        } catch (RuntimeException transientFailure) {
            log.warn("Backend report {} failed; it is received again later", message.messageId(), transientFailure);
        }
    }

    private void delete(Message message) {
        sqs.deleteMessage(b -> b.queueUrl(queueUrl.toString()).receiptHandle(message.receiptHandle()));
    }

    /** Moves a report to the dead-letter queue with its reason; without one, lets the receive limit move it. */
    private void deadLetter(Message message, String reason) {
        String deadLetters = deadLetterQueueUrl();
        if (deadLetters == null) {
            release(message);
            return;
        }
        String why = reason == null ? "unprocessable" : reason;
        sqs.sendMessage(b -> b.queueUrl(deadLetters).messageBody(message.body()).messageAttributes(Map.of(
                "dagy_reason", MessageAttributeValue.builder().dataType("String").stringValue(why).build(),
                "dagy_message_id", MessageAttributeValue.builder().dataType("String").stringValue(message.messageId())
                        .build())));
        delete(message);
    }

    /** The dead-letter queue of the events queue's redrive policy, or null if it has none. */
    private String deadLetterQueueUrl() {
        if (deadLetterQueueUrl == null) {
            String policy = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl.toString())
                    .attributeNames(QueueAttributeName.REDRIVE_POLICY)).attributes().get(QueueAttributeName.REDRIVE_POLICY);
            if (policy == null || policy.isBlank()) {
                return null;
            }
            String arn = json.readTree(policy).path("deadLetterTargetArn").asString("");
            if (arn.isBlank()) {
                return null;
            }
            String name = arn.substring(arn.lastIndexOf(':') + 1);
            deadLetterQueueUrl = sqs.getQueueUrl(b -> b.queueName(name)).queueUrl();
        }
        return deadLetterQueueUrl;
    }

    private void release(Message message) {
        sqs.changeMessageVisibility(b -> b.queueUrl(queueUrl.toString()).receiptHandle(message.receiptHandle())
                .visibilityTimeout(0));
    }

    /** The command a report asks for; null for a state change that asks for none. */
    Object command(String body) {
        JsonNode report;
        try {
            report = json.readTree(body);
        } catch (JacksonException e) {
            throw new UnprocessableReport("not JSON");
        }
        if (stateChanges != null) {
            AwsStateChanges.Translation translation = stateChanges.translate(report);
            if (translation instanceof AwsStateChanges.Report translated) {
                report = translated.report();
            } else if (translation instanceof AwsStateChanges.Ignored) {
                return null;
            } else if (translation instanceof AwsStateChanges.Unknown unknown) {
                throw new UnprocessableReport(unknown.reason());
            } // else Dagy's own report shape
        }
        String dispatchId = text(report, "dispatch_id");
        int slash = dispatchId.lastIndexOf('/');
        int attempt;
        TaskRunId taskRunId;
        try {
            attempt = Integer.parseInt(dispatchId.substring(slash + 1));
            taskRunId = new TaskRunId(dispatchId.substring(0, slash));
        } catch (RuntimeException e) {
            throw new UnprocessableReport("malformed dispatch id '" + dispatchId + "'");
        }
        return switch (text(report, "kind")) {
            case "started" -> new StartTaskAttempt(taskRunId, attempt);
            case "heartbeat" -> new RecordHeartbeat(taskRunId, attempt);
            case "succeeded" -> new CompleteTaskAttempt(taskRunId, attempt,
                    report.has("output") ? json.convertValue(report.get("output"), Map.class) : Map.of());
            case "failed" -> new FailTaskAttempt(taskRunId, attempt, text(report, "error_kind"),
                    report.has("message") ? report.get("message").asString() : "");
            default -> throw new UnprocessableReport("unknown kind '" + text(report, "kind") + "'");
        };
    }

    private static String text(JsonNode report, String field) {
        JsonNode value = report.get(field);
        if (value == null || !value.isString() || value.asString().isBlank()) {
            throw new UnprocessableReport("missing " + field);
        }
        return value.asString();
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops receiving; reports being handled finish (for at most 5 s). A receive still waiting is not waited for: its
     * thread ends when it returns, releasing whatever it received, or fails once the SQS client is closed; a message it
     * received then comes back after its visibility timeout.
     */
    public synchronized void close() {
        running = false;
        long end = System.nanoTime() + 5_000_000_000L;
        while (handling.get() > 0 && System.nanoTime() < end && !Thread.currentThread().isInterrupted()) {
            pause(10);
        }
    }

    /** A report that no retry can make processable. */
    static final class UnprocessableReport extends RuntimeException {
        UnprocessableReport(String message) {
            super(message);
        }
    }
}
