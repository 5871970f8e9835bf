package io.dagy.gateway.web;

import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.WorkerId;
import io.dagy.contracts.run.WorkerQueue;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.problem.Problems;
import io.dagy.query.paging.PageCursor;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Checks of request values that controllers call before they use them, each refusing with a problem (thrown, so the
 * advice renders it): a value that could never be valid must not reach a command, a query or DynamoDB, where it
 * would be a 500 (a key too long, a blank id) or worse, be stored.
 */
public final class RequestChecks {

    /** What a worker may report as the kind of a failure ({@code retry_on} matches it). */
    private static final Pattern ERROR_KIND = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}");

    private RequestChecks() {
    }

    /** The run a path names; an id that cannot be a run id names no run: 404 {@code run_not_found}. */
    public static RunId runId(String id) {
        if (!RunId.isValid(id)) {
            throw new ProblemException(Problems.statusOf(ErrorCode.RUN_NOT_FOUND), ErrorCode.RUN_NOT_FOUND,
                    "No run has that id (a run id is r- and 1-64 of letters, digits and '-').");
        }
        return new RunId(id);
    }

    /** A cursor this listing did not hand out: 400 {@code validation_failed} naming {@code cursor}. */
    public static void cursor(String cursor, PageCursor listing) {
        if (cursor != null && !listing.isValid(cursor)) {
            throw ProblemException.invalid("The query is invalid.", List.of(invalidCursor()));
        }
    }

    public static FieldError invalidCursor() {
        return new FieldError("cursor", "pass the next_cursor of a previous page, unchanged");
    }

    /** A worker's poll names a queue and itself; both become part of DynamoDB keys. */
    public static void workerPoll(String queue, String workerId) {
        workerPoll(queue, workerId, "queue");
    }

    /** A poll whose queue is the field {@code queueField} of the request (a report's {@code poll.queue}). */
    public static void workerPoll(String queue, String workerId, String queueField) {
        List<FieldError> errors = new ArrayList<>();
        if (!WorkerQueue.isValid(queue)) {
            errors.add(new FieldError(queueField, "is required: 1-128 of letters, digits, '_', '.', ':', '-', starting "
                    + "with a letter or digit"));
        }
        if (!WorkerId.isValid(workerId)) {
            errors.add(new FieldError("worker_id", "is required: 1-128 of letters, digits, '_', '.', ':', '@', '-', "
                    + "starting with a letter or digit"));
        }
        if (!errors.isEmpty()) {
            throw ProblemException.invalid("The request is invalid.", errors);
        }
    }

    /** An attempt a worker reports on; a path that cannot name one is 404 {@code attempt_not_found}. */
    public static void attempt(String runId, String taskId, int attempt) {
        if (!RunId.isValid(runId) || !Dag.Task.isValidId(taskId) || attempt < 1) {
            throw new ProblemException(Problems.statusOf(ErrorCode.ATTEMPT_NOT_FOUND), ErrorCode.ATTEMPT_NOT_FOUND,
                    "No such attempt is held by this worker.");
        }
    }

    /** The kind of a failure a worker reports: required, and short and plain, as {@code retry_on} lists it. */
    public static void errorKind(String errorKind) {
        if (errorKind == null || !ERROR_KIND.matcher(errorKind).matches()) {
            throw ProblemException.invalid("The request is invalid.", List.of(new FieldError("error_kind",
                    "is required: 1-128 of letters, digits, '_', '.', ':', '-', starting with a letter or digit")));
        }
    }
}
