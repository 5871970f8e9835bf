package io.dagy.eventstore.deadletters;

import org.axonframework.common.AxonTransientException;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.deadletter.Decisions;
import org.axonframework.messaging.deadletter.EnqueueDecision;
import org.axonframework.messaging.deadletter.EnqueuePolicy;
import org.axonframework.messaging.deadletter.ThrowableCause;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Dagy's enqueue policy: a handler's failure is retried a few times before its event is parked.
 * <ul>
 *     <li>Attempts before the last fail the processor's batch (this policy throws): the batch rolls back and the
 *     segment handles it again after the processor's back-off (1 s, 2 s, 4 s, ...), as every failure did before
 *     dead letters (decision 17).</li>
 *     <li>The last attempt parks the event: what its handlers wrote in the batch's transaction is dropped
 *     ({@link EventSavepoints}), and the dead-lettering invoker enqueues it, so the rest of the batch commits and
 *     the segment moves on. Later events of the same sequence are parked behind it.</li>
 *     <li>A transient failure (DynamoDB throttling or a 5xx, a network error, Axon's transient exceptions such as a
 *     lost concurrency race) is never counted and never parks: an outage stops the segment, which retries until the
 *     outage ends, instead of parking every event in flight.</li>
 *     <li>A parked letter that fails again when retried stays parked, with the new cause.</li>
 * </ul>
 * Attempts are counted per processor and event on this node, in memory (the last 10,000 events): a node that takes
 * the segment over counts afresh, so an event is tried at most {@code attempts} times per node.
 */
public final class RetryThenPark implements EnqueuePolicy<EventMessage<?>> {

    /** The diagnostics of a parked letter: how often its event was handled, and when it failed first. */
    public static final String ATTEMPTS = "attempts";
    public static final String FIRST_FAILED_AT = "first_failed_at";

    private static final int REMEMBERED = 10_000;

    private final int attempts;
    private final Clock clock;
    private final Map<String, Failures> failures = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
            return size() > REMEMBERED;
        }
    };

    private record Failures(int count, Instant first) {
    }

    /** @param attempts how often an event is handled before it is parked; 1 parks at the first failure */
    public RetryThenPark(int attempts) {
        this(attempts, Clock.systemUTC());
    }

    public RetryThenPark(int attempts, Clock clock) {
        if (attempts < 1) {
            throw new IllegalArgumentException("an event is handled at least once before it is parked: " + attempts);
        }
        this.attempts = attempts;
        this.clock = clock;
    }

    public int attempts() {
        return attempts;
    }

    @Override
    public EnqueueDecision<EventMessage<?>> decide(DeadLetter<? extends EventMessage<?>> letter, Throwable cause) {
        EventMessage<?> event = letter.message();
        if (letter instanceof DynamoDeadLetter) {
            return Decisions.requeue(ThrowableCause.truncated(cause));
        }
        if (isTransient(cause)) {
            throw new EventRetryException("Handling event " + event.getIdentifier() + " failed with a transient "
                    + "error; its segment handles it again", cause);
        }
        String key = EventSavepoints.processorOf(event).orElse("") + '/' + event.getIdentifier();
        Failures failed;
        synchronized (failures) {
            failed = failures.merge(key, new Failures(1, clock.instant()),
                    (before, now) -> new Failures(before.count() + 1, before.first()));
            if (failed.count() >= attempts) {
                failures.remove(key);
            }
        }
        if (failed.count() < attempts) {
            throw new EventRetryException("Handling event " + event.getIdentifier() + " failed (attempt "
                    + failed.count() + " of " + attempts + "); its segment handles it again", cause);
        }
        EventSavepoints.discardEffectsOf(event);
        return Decisions.enqueue(ThrowableCause.truncated(cause), parked -> parked.diagnostics()
                .and(ATTEMPTS, attempts).and(FIRST_FAILED_AT, failed.first().toString()));
    }

    /** Whether the failure says nothing about the event: the infrastructure failed, and retrying is right. */
    static boolean isTransient(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AxonTransientException || t instanceof SdkClientException) {
                return true;
            }
            if (t instanceof AwsServiceException service && (service.isThrottlingException() || service.statusCode() >= 500)) {
                return true;
            }
        }
        return false;
    }

    /** Fails the processor's batch so that its segment handles the event again. */
    public static final class EventRetryException extends RuntimeException {
        EventRetryException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
