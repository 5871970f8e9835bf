package io.dagy.gateway.worker;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.Problems;
import io.dagy.gateway.security.Caller;
import io.dagy.gateway.web.RequestChecks;
import io.dagy.saga.backend.WorkerBackend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

/**
 * The API external workers use, with a worker key: long-poll a queue of the key's organization for an attempt, then
 * heartbeat, complete or fail that attempt (and, in the same call, ask for the next one). Only the worker holding an
 * attempt may report on it, and only with a key of the attempt's organization; any other attempt does not exist for it.
 */
@RestController
@RequestMapping("/v1/workers")
class WorkerController {

    private static final int MAX_WAIT_SECONDS = 20;

    private static final Logger log = LoggerFactory.getLogger(WorkerController.class);

    private final WorkerBackend workers;

    WorkerController(WorkerBackend workers) {
        this.workers = workers;
    }

    record PollRequest(String queue, String workerId, Integer waitSeconds) {
    }

    /**
     * A report; with {@code poll}, the worker also asks for its next attempt in the same call (decision 84), which
     * spares it a poll request per attempt.
     */
    record WorkerReport(String workerId, Map<String, Object> output, String errorKind, String message, NextPoll poll) {
    }

    /** The poll that follows a report: the queue and how long to wait, as in {@code POST /poll}. */
    record NextPoll(String queue, Integer waitSeconds) {
    }

    record HeartbeatResponse(boolean cancelRequested) {
    }

    /** 200 with an attempt, or 204 when none arrived within {@code wait_seconds} (at most 20). */
    @PostMapping(path = "/poll", consumes = "application/json")
    ResponseEntity<?> poll(Caller caller, @RequestBody PollRequest request) throws InterruptedException {
        RequestChecks.workerPoll(request.queue(), request.workerId());
        return workers.poll(caller.org(), request.queue(), request.workerId(), waitOf(request.waitSeconds()))
                .<ResponseEntity<?>>map(ResponseEntity::ok)
                .orElseGet(() -> ResponseEntity.noContent().build());
    }

    private static Duration waitOf(Integer waitSeconds) {
        return Duration.ofSeconds(waitSeconds == null ? 10 : Math.max(0, Math.min(MAX_WAIT_SECONDS, waitSeconds)));
    }

    /**
     * Applies a report: 202, or with {@code poll} the next attempt (200) if one arrived within its wait. A report that
     * fails fails the call; once it is recorded it stands whatever the poll finds, and a poll that fails answers 202
     * (the worker polls again).
     */
    private ResponseEntity<?> report(Caller caller, WorkerReport report, Runnable apply) {
        if (report.poll() == null) {
            apply.run();
            return ResponseEntity.accepted().build();
        }
        var held = workers.reportBeforePoll(caller.org(), report.poll().queue(), apply);
        try {
            return workers.poll(caller.org(), report.poll().queue(), report.workerId(), waitOf(report.poll().waitSeconds()),
                            held)
                    .<ResponseEntity<?>>map(ResponseEntity::ok)
                    .orElseGet(() -> ResponseEntity.accepted().build());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ResponseEntity.accepted().build();
        } catch (RuntimeException e) {
            log.warn("A poll after a report failed; the report stands and the worker polls again", e);
            return ResponseEntity.accepted().build();
        }
    }

    /** A report's poll is checked before the report is applied: a refused request changes nothing. */
    private static void checkPoll(WorkerReport report) {
        if (report.poll() != null) {
            RequestChecks.workerPoll(report.poll().queue(), report.workerId(), "poll.queue");
        }
    }

    @PostMapping(path = "/attempts/{runId}/{taskId}/{attempt}/heartbeat", consumes = "application/json")
    ResponseEntity<?> heartbeat(Caller caller, @PathVariable String runId, @PathVariable String taskId,
                                @PathVariable int attempt, @RequestBody WorkerReport report) {
        return asHolder(caller, runId, taskId, attempt, report,
                dispatchId -> ResponseEntity.ok(new HeartbeatResponse(workers.heartbeat(dispatchId))));
    }

    @PostMapping(path = "/attempts/{runId}/{taskId}/{attempt}/complete", consumes = "application/json")
    ResponseEntity<?> complete(Caller caller, @PathVariable String runId, @PathVariable String taskId,
                               @PathVariable int attempt, @RequestBody WorkerReport report) {
        checkPoll(report);
        return asHolder(caller, runId, taskId, attempt, report, dispatchId -> report(caller, report,
                () -> workers.complete(dispatchId, report.output() == null ? Map.of() : report.output())));
    }

    @PostMapping(path = "/attempts/{runId}/{taskId}/{attempt}/fail", consumes = "application/json")
    ResponseEntity<?> fail(Caller caller, @PathVariable String runId, @PathVariable String taskId,
                           @PathVariable int attempt, @RequestBody WorkerReport report) {
        checkPoll(report);
        return asHolder(caller, runId, taskId, attempt, report, dispatchId -> {
            RequestChecks.errorKind(report.errorKind());
            return report(caller, report,
                    () -> workers.fail(dispatchId, report.errorKind(), report.message() == null ? "" : report.message()));
        });
    }

    /** Runs {@code action} on the attempt's dispatch id if the reporting worker holds it; else a 404 problem. */
    private ResponseEntity<?> asHolder(Caller caller, String runId, String taskId, int attempt, WorkerReport report,
                                       Function<String, ResponseEntity<?>> action) {
        RequestChecks.attempt(runId, taskId, attempt);
        String dispatchId = runId + "/" + taskId + "/" + attempt;
        boolean holds = report.workerId() != null && workers.holds(caller.org(), dispatchId, report.workerId());
        return holds ? action.apply(dispatchId) : notHeld(dispatchId);
    }

    private static ResponseEntity<ProblemDetail> notHeld(String dispatchId) {
        ProblemDetail problem = Problems.of(BusinessError.of(ErrorCode.ATTEMPT_NOT_FOUND,
                "No attempt " + dispatchId + " is held by this worker."));
        return ResponseEntity.status(HttpStatus.NOT_FOUND).body(problem);
    }
}
