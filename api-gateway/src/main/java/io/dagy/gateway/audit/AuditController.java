package io.dagy.gateway.audit;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.Caller;
import io.dagy.gateway.web.RequestChecks;
import io.dagy.projection.audit.AuditChain;
import io.dagy.projection.audit.AuditRecord;
import io.dagy.query.paging.PageCursor;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** The caller's organization's audit log (docs/audit.md): pages of records, and verification of the chain. */
@RestController
class AuditController {

    /** Records one page examines at most, so a narrow filter over a long log still answers promptly. */
    static final int SCAN_LIMIT = 1000;

    private final AuditChain chain;
    private final AuditReplays replays;

    AuditController(AuditChain chain, AuditReplays replays) {
        this.chain = chain;
        this.replays = replays;
    }

    /**
     * Starts a replay of the caller's organization's audit log and usage into fresh tables (decision 48): 202 with
     * the job; follow it with {@code GET /v1/audit/replay/{job_id}}.
     */
    @PostMapping("/v1/audit/replay")
    @ResponseStatus(HttpStatus.ACCEPTED)
    AuditReplays.Job replay(Caller caller) {
        return replays.start(caller.org().value());
    }

    /** A replay's progress (events read of the total) and, once done, whether it is identical to the live log. */
    @GetMapping("/v1/audit/replay/{jobId}")
    AuditReplays.Job replayJob(Caller caller, @PathVariable String jobId) {
        if (!jobId.matches("rpl-[0-9a-f]{16}")) {
            throw replayNotFound(jobId);
        }
        return replays.find(caller.org().value(), jobId).orElseThrow(() -> replayNotFound(jobId));
    }

    private static ProblemException replayNotFound(String jobId) {
        return ProblemException.of(ErrorCode.REPLAY_NOT_FOUND, "No replay job of this organization has that id.");
    }

    record RecordResponse(String auditId, long seq, Instant timestamp, String orgId, String userId, String actorKind,
                          String action, String resourceType, String resourceId, Map<String, Map<String, String>> changes,
                          String ipAddress, String userAgent, String status, String reason, String prevHash,
                          String hash) {
        static RecordResponse of(AuditRecord record) {
            Map<String, Map<String, String>> changes = new LinkedHashMap<>();
            record.changes().forEach((name, change) -> {
                Map<String, String> values = new LinkedHashMap<>();
                values.put("old", change.oldValue());
                values.put("new", change.newValue());
                changes.put(name, values);
            });
            return new RecordResponse(record.auditId(), record.seq(), record.timestamp(), record.orgId(),
                    record.userId(), record.actorKind(), record.action(), record.resourceType(), record.resourceId(),
                    changes, record.ipAddress(), record.userAgent(), record.status(), record.reason(),
                    record.prevHash(), record.hash());
        }
    }

    record AuditPage(List<RecordResponse> items, String nextCursor) {
    }

    /**
     * Records in chain order, filtered by time ({@code [from, to)}), action and resource ({@code <type>} or
     * {@code <type>/<id>}). A page examines at most {@link #SCAN_LIMIT} records, so it may hold fewer than
     * {@code limit} and still have a {@code next_cursor}.
     */
    @GetMapping("/v1/audit")
    AuditPage list(Caller caller, @RequestParam(required = false) String from, @RequestParam(required = false) String to,
                   @RequestParam(required = false) String action, @RequestParam(required = false) String resource,
                   @RequestParam(required = false) String cursor, @RequestParam(defaultValue = "50") int limit) {
        List<FieldError> errors = new ArrayList<>();
        Instant since = instant("from", from, errors);
        Instant until = instant("to", to, errors);
        if (limit < 1 || limit > 100) {
            errors.add(new FieldError("limit", "must be 1..100"));
        }
        if (cursor != null && !PageCursor.AUDIT.isValid(cursor)) {
            errors.add(RequestChecks.invalidCursor());
        }
        if (!errors.isEmpty()) {
            throw ProblemException.of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The query is invalid.", errors));
        }
        long after = cursor == null ? 0 : Long.parseLong(PageCursor.AUDIT.decode(cursor).orElseThrow());
        Predicate<AuditRecord> filter = record -> (since == null || !record.timestamp().isBefore(since))
                && (until == null || record.timestamp().isBefore(until))
                && (action == null || action.equals(record.action()))
                && (resource == null || resource.equals(record.resourceType())
                || resource.equals(record.resourceType() + "/" + record.resourceId()));
        AuditChain.Page page = chain.page(caller.org().value(), after, limit, SCAN_LIMIT, filter);
        return new AuditPage(page.records().stream().map(RecordResponse::of).toList(),
                page.more() ? PageCursor.AUDIT.encode(String.format("%012d", page.lastSeq())) : null);
    }

    record Head(long seq, String hash) {
    }

    record Mismatch(long seq, String auditId, String problem) {
    }

    record VerifyResponse(boolean verified, long checked, Head head, Mismatch firstMismatch) {
    }

    /** Recomputes the organization's chain; names the first record in {@code [from, to)} that does not match. */
    @GetMapping("/v1/audit/verify")
    VerifyResponse verify(Caller caller, @RequestParam(required = false) String from,
                          @RequestParam(required = false) String to) {
        List<FieldError> errors = new ArrayList<>();
        Instant since = instant("from", from, errors);
        Instant until = instant("to", to, errors);
        if (!errors.isEmpty()) {
            throw ProblemException.of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The query is invalid.", errors));
        }
        AuditChain.Verification verification = chain.verify(caller.org().value(), since, until);
        return new VerifyResponse(verification.firstMismatch().isEmpty(), verification.checked(),
                new Head(verification.head().seq(), verification.head().hash()),
                verification.firstMismatch().map(m -> new Mismatch(m.seq(), m.auditId(), m.problem())).orElse(null));
    }

    private static Instant instant(String field, String value, List<FieldError> errors) {
        if (value == null) {
            return null;
        }
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException invalid) {
            errors.add(new FieldError(field, "an ISO-8601 instant, e.g. 2026-11-30T00:00:00Z"));
            return null;
        }
    }
}
