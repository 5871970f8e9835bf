package io.dagy.gateway.admin;

import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.identity.Permission;
import io.dagy.eventstore.deadletters.DynamoDeadLetter;
import io.dagy.eventstore.deadletters.DynamoSequencedDeadLetterQueue;
import io.dagy.eventstore.deadletters.DynamoSequencedDeadLetterQueue.ParkedSequence;
import io.dagy.eventstore.deadletters.RetryThenPark;
import io.dagy.gateway.axon.DeadLetterQueues;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.Caller;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.deadletter.Decisions;
import org.axonframework.messaging.deadletter.SequencedDeadLetterProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The dead letters of the installation (docs/operations.md, "Dead letters"): events whose handlers kept failing,
 * parked per processor and sequence. Listed, retried (the processor's handlers take the parked events again, in
 * order) or evicted (dropped unhandled). They span every organization, so only an owner of the {@code default}
 * organization may call these routes ({@code ApiRoutes} refuses everyone else first; checked here again).
 *
 * <p>A sequence is addressed by its {@code key}: the sequence identifier in URL-safe base64, because identifiers may
 * hold a {@code /} (a task run's is {@code <run>/<task>}) and the API refuses an encoded slash in a path.
 */
@RestController
class DeadLetterController {

    private static final Logger log = LoggerFactory.getLogger(DeadLetterController.class);
    private static final Pattern PRINTABLE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,128}");

    private final DeadLetterQueues queues;
    private final org.axonframework.config.Configuration axon;

    DeadLetterController(DeadLetterQueues queues, org.axonframework.config.Configuration axon) {
        this.queues = queues;
        this.axon = axon;
    }

    record Cause(String type, String message) {
    }

    /** The event a sequence is stuck on. */
    record Event(String id, String type, String aggregateId, Long sequenceNumber, Instant timestamp) {
    }

    /**
     * One parked sequence: the event it is stuck on and why, when that event first failed, when it was parked, when it
     * last failed (a retry that fails again moves it), how often it was handled, and how many letters it holds.
     */
    record SequenceView(String processor, String sequence, String key, long size, boolean claimed, Cause cause,
                        Instant firstFailureAt, Instant parkedAt, Instant lastFailureAt, Integer attempts, Event event) {
    }

    record SequencesResponse(List<SequenceView> items) {
    }

    /** {@code resolved}: every letter was handled and the sequence left the queue; otherwise what remains. */
    record RetryResponse(String processor, String sequence, String key, boolean resolved, SequenceView remaining) {
    }

    @GetMapping("/v1/admin/dead-letters")
    SequencesResponse list(Caller caller, @RequestParam(name = "processor", required = false) String processor) {
        requireOperator(caller);
        Collection<DynamoSequencedDeadLetterQueue> selected = processor == null || processor.isEmpty()
                ? queues.all().values() : List.of(queue(processor));
        List<SequenceView> items = new ArrayList<>();
        selected.forEach(queue -> queue.sequences().forEach(parked -> items.add(view(parked))));
        return new SequencesResponse(items);
    }

    @PostMapping("/v1/admin/dead-letters/{processor}/{sequence}/retry")
    RetryResponse retry(Caller caller, @PathVariable("processor") String processor, @PathVariable("sequence") String key) {
        requireOperator(caller);
        DynamoSequencedDeadLetterQueue queue = queue(processor);
        String sequence = sequenceOf(key);
        ParkedSequence before = parked(queue, sequence);
        SequencedDeadLetterProcessor<EventMessage<?>> handlers = axon.eventProcessingConfiguration()
                .sequencedDeadLetterProcessor(processor)
                .orElseThrow(() -> processorNotFound(processor));
        log.info("{} retries sequence '{}' of processor '{}' ({} letters)", caller.actor(), sequence, processor,
                before.size());
        boolean emptied = handlers.process(letter -> letter instanceof DynamoDeadLetter parked
                && parked.sequenceIdentifier().equals(sequence));
        Optional<ParkedSequence> after = queue.sequence(sequence);
        if (!emptied && after.isPresent() && untouched(before, after.get()) && after.get().claimed()) {
            throw busy(sequence);
        }
        return new RetryResponse(processor, sequence, key, after.isEmpty(), after.map(DeadLetterController::view).orElse(null));
    }

    @DeleteMapping("/v1/admin/dead-letters/{processor}/{sequence}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void evict(Caller caller, @PathVariable("processor") String processor, @PathVariable("sequence") String key) {
        requireOperator(caller);
        DynamoSequencedDeadLetterQueue queue = queue(processor);
        String sequence = sequenceOf(key);
        ParkedSequence before = parked(queue, sequence);
        boolean emptied = queue.process(letter -> letter instanceof DynamoDeadLetter parked
                && parked.sequenceIdentifier().equals(sequence), letter -> Decisions.evict());
        if (!emptied && queue.sequence(sequence).isPresent()) {
            throw busy(sequence);
        }
        log.warn("{} evicted sequence '{}' of processor '{}': {} events that processor will never handle, the first "
                + "{} ({})", caller.actor(), sequence, processor, before.size(), before.head().message().getIdentifier(),
                before.head().payloadType());
    }

    private static void requireOperator(Caller caller) {
        if (!caller.isOperator(Permission.OPERATE_INSTALLATION)) {
            throw ProblemException.of(ErrorCode.FORBIDDEN, "Dead letters belong to the whole installation: only an "
                    + "owner of the default organization may see or change them.");
        }
    }

    private DynamoSequencedDeadLetterQueue queue(String processor) {
        return queues.of(processor).orElseThrow(() -> processorNotFound(processor));
    }

    private static ParkedSequence parked(DynamoSequencedDeadLetterQueue queue, String sequence) {
        return queue.sequence(sequence).orElseThrow(() -> ProblemException.of(ErrorCode.DEAD_LETTER_SEQUENCE_NOT_FOUND,
                "Processor '" + queue.processingGroup() + "' has nothing parked under that sequence."));
    }

    /** Whether nobody touched the sequence: its first letter is the same and did not fail again. */
    private static boolean untouched(ParkedSequence before, ParkedSequence after) {
        return before.head().letterId().equals(after.head().letterId())
                && before.head().lastTouched().equals(after.head().lastTouched());
    }

    private static ProblemException processorNotFound(String processor) {
        return ProblemException.of(ErrorCode.PROCESSOR_NOT_FOUND, PRINTABLE_NAME.matcher(processor).matches()
                ? "No event processor with dead letters is named '" + processor + "'."
                : "No event processor with dead letters has that name.");
    }

    private static ProblemException busy(String sequence) {
        return ProblemException.of(ErrorCode.DEAD_LETTER_SEQUENCE_BUSY, "Another retry or eviction holds that "
                + "sequence; try again when it is done (a retry that stopped responding loses it after 10 minutes).");
    }

    /** The path form of a sequence identifier: URL-safe base64 of its UTF-8, unpadded. */
    static String keyOf(String sequence) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(sequence.getBytes(StandardCharsets.UTF_8));
    }

    private static String sequenceOf(String key) {
        try {
            String sequence = new String(Base64.getUrlDecoder().decode(key), StandardCharsets.UTF_8);
            if (!sequence.isEmpty() && keyOf(sequence).equals(key)) {
                return sequence;
            }
        } catch (IllegalArgumentException notBase64) {
            // answered below
        }
        throw ProblemException.of(ErrorCode.DEAD_LETTER_SEQUENCE_NOT_FOUND, "No parked sequence has that key; "
                + "use the key the listing shows.");
    }

    private static SequenceView view(ParkedSequence parked) {
        DynamoDeadLetter head = parked.head();
        EventMessage<?> event = head.message();
        DomainEventMessage<?> domain = event instanceof DomainEventMessage<?> d ? d : null;
        Object firstFailedAt = head.diagnostics().get(RetryThenPark.FIRST_FAILED_AT);
        Object attempts = head.diagnostics().get(RetryThenPark.ATTEMPTS);
        return new SequenceView(parked.processingGroup(), parked.sequence(), keyOf(parked.sequence()), parked.size(),
                parked.claimed(), head.cause().map(cause -> new Cause(cause.type(), cause.message())).orElse(null),
                firstFailedAt instanceof String at ? Instant.parse(at) : head.enqueuedAt(), head.enqueuedAt(),
                head.lastTouched(), attempts instanceof Number n ? n.intValue() : null,
                new Event(event.getIdentifier(), head.payloadType(),
                        domain == null ? null : domain.getAggregateIdentifier(),
                        domain == null ? null : domain.getSequenceNumber(), event.getTimestamp()));
    }
}
