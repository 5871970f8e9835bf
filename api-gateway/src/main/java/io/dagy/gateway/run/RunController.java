package io.dagy.gateway.run;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.run.RunCommands.CancelRun;
import io.dagy.contracts.run.RunCommands.RerunRun;
import io.dagy.contracts.run.RunCommands.StartRun;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunQueries.AttemptView;
import io.dagy.contracts.run.RunQueries.FindRun;
import io.dagy.contracts.run.RunQueries.ListRuns;
import io.dagy.contracts.run.RunQueries.RunDetails;
import io.dagy.contracts.run.RunQueries.RunPage;
import io.dagy.contracts.run.RunQueries.TaskView;
import io.dagy.contracts.run.RunQueries.ListRunEvents;
import io.dagy.contracts.run.RunQueries.ListRunTasks;
import io.dagy.contracts.run.RunQueries.RunEventPage;
import io.dagy.contracts.run.RunQueries.TaskCounts;
import io.dagy.contracts.run.RunQueries.TaskPage;
import io.dagy.contracts.run.RunStatus;
import io.dagy.gateway.billing.BillingGuard;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.Caller;
import io.dagy.gateway.web.RequestChecks;
import io.dagy.query.paging.PageCursor;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.axonframework.modelling.command.AggregateNotFoundException;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.axonframework.queryhandling.QueryGateway;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/** Starting runs of the caller's organization and reading them; another organization's run is not found. */
@RestController
class RunController {

    private final CommandGateway commands;
    private final QueryGateway queries;
    private final RunStreams streams;
    private final BillingGuard billing;

    RunController(CommandGateway commands, QueryGateway queries, RunStreams streams, BillingGuard billing) {
        this.commands = commands;
        this.queries = queries;
        this.streams = streams;
        this.billing = billing;
    }

    record StartRequest(Map<String, Object> params) {
    }

    record StartResponse(String runId, String status) {
    }

    /**
     * Starts a run of the deployment's current version: 202 with the run id. With an {@code Idempotency-Key}, the run
     * id is derived from organization, deployment and key, so the same key always answers with the same run and never
     * starts a second one, however many requests race.
     */
    @PostMapping("/v1/deployments/{name}/runs")
    @ResponseStatus(HttpStatus.ACCEPTED)
    StartResponse start(Caller caller, @PathVariable String name, @RequestBody(required = false) StartRequest request,
                        @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey) {
        if (!DeploymentName.isValid(name)) {
            throw ProblemException.of(ErrorCode.DEPLOYMENT_NOT_FOUND, "No deployment is named '" + name + "'.");
        }
        RunId runId = idempotencyKey == null ? new RunId("r-" + UUID.randomUUID())
                : RunId.forIdempotencyKey(caller.org(), name, idempotencyKey);
        // the plan's limits (docs/billing.md): 402 past a monthly quota or read-only, 429 at the concurrency limit
        BillingGuard.Slot slot = billing.startRun(caller.org(), runId.value());
        try {
            commands.sendAndWait(new StartRun(runId, caller.org(), new DeploymentName(name),
                    request == null ? Map.of() : request.params()));
        } catch (RuntimeException e) {
            if (idempotencyKey == null || !causedBy(e, AggregateStreamCreationException.class)) {
                slot.release();
                throw e;
            }
            // the key's run exists already: answer with it, as it stands now (RUNNING until its view exists)
            return new StartResponse(runId.value(), queries.query(new FindRun(caller.org(), runId),
                            ResponseTypes.optionalInstanceOf(RunDetails.class)).join()
                    .map(details -> details.run().status().name()).orElse("RUNNING"));
        }
        return new StartResponse(runId.value(), "RUNNING");
    }

    /**
     * Cancels a run: 202; running attempts are stopped in their backends, tasks not started are cancelled, and the
     * run ends {@code CANCELLED}. Cancelling a finished run changes nothing.
     */
    @PostMapping("/v1/runs/{id}/cancel")
    @ResponseStatus(HttpStatus.ACCEPTED)
    StartResponse cancel(Caller caller, @PathVariable String id) {
        send(new CancelRun(runId(id), caller.org()), id);
        return new StartResponse(id, "CANCELLING");
    }

    /**
     * Reruns a finished run: 202; its failed, timed-out, cancelled and upstream-failed tasks run again as new attempts,
     * succeeded tasks keep their results. 409 {@code run_not_finished} while it still runs.
     */
    @PostMapping("/v1/runs/{id}/rerun")
    @ResponseStatus(HttpStatus.ACCEPTED)
    StartResponse rerun(Caller caller, @PathVariable String id) {
        // a rerun runs again, so the plan's limits apply as to a start; a refused rerun keeps the slot, which is
        // freed when the run is seen finished (a running run's 409 must not give its slot away)
        billing.rerun(caller.org(), runId(id).value());
        send(new RerunRun(runId(id), caller.org()), id);
        return new StartResponse(id, "RUNNING");
    }

    private void send(Object command, String id) {
        try {
            commands.sendAndWait(command);
        } catch (AggregateNotFoundException missing) {
            throw runNotFound(id);
        }
    }

    record RunSummary(String runId, String deployment, int version, String status, Instant startedAt, Instant endedAt) {
    }

    record RunPageResponse(List<RunSummary> items, String nextCursor) {
    }

    /** Runs newest first, optionally of one deployment and in one status; follow {@code next_cursor} for more. */
    @GetMapping("/v1/runs")
    RunPageResponse list(Caller caller, @RequestParam(required = false) String deployment,
                         @RequestParam(required = false) String status,
                         @RequestParam(required = false) String cursor,
                         @RequestParam(defaultValue = "50") int limit) {
        List<BusinessError.FieldError> errors = new ArrayList<>();
        RunStatus wanted = null;
        if (status != null) {
            try {
                wanted = RunStatus.valueOf(status.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException unknown) {
                errors.add(new BusinessError.FieldError("status", "one of " + Arrays.toString(RunStatus.values())));
            }
        }
        if (deployment != null && !DeploymentName.isValid(deployment)) {
            errors.add(new BusinessError.FieldError("deployment", "not a deployment name"));
        }
        if (limit < 1 || limit > 100) {
            errors.add(new BusinessError.FieldError("limit", "must be 1..100"));
        }
        if (cursor != null && !PageCursor.RUNS.isValid(cursor)) {
            errors.add(RequestChecks.invalidCursor());
        }
        if (!errors.isEmpty()) {
            throw ProblemException.of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The query is invalid.", errors));
        }
        RunPage page = queries.query(new ListRuns(caller.org(), deployment == null ? null : new DeploymentName(deployment),
                wanted, cursor, limit), ResponseTypes.instanceOf(RunPage.class)).join();
        return new RunPageResponse(page.items().stream().map(run -> new RunSummary(run.runId().value(),
                run.deployment().value(), run.version(), run.status().name(), run.startedAt(), run.endedAt())).toList(),
                page.nextCursor());
    }

    /**
     * A run with its task counts and its first tasks (at most 100, in DAG order): the same size for a run of 10,000
     * tasks as for one of 100. {@code tasks_next_cursor} continues with {@code GET /v1/runs/{id}/tasks}.
     */
    @GetMapping("/v1/runs/{id}")
    RunResponse find(Caller caller, @PathVariable String id) {
        return queries.query(new FindRun(caller.org(), runId(id)), ResponseTypes.optionalInstanceOf(RunDetails.class))
                .join().map(RunResponse::of).orElseThrow(() -> runNotFound(id));
    }

    record RunResponse(String runId, String deployment, int version, String status, Instant startedAt, Instant endedAt,
                       int taskCount, TaskCounts taskCounts, List<TaskResponse> tasks, String tasksNextCursor) {
        static RunResponse of(RunDetails details) {
            var run = details.run();
            return new RunResponse(run.runId().value(), run.deployment().value(), run.version(), run.status().name(),
                    run.startedAt(), run.endedAt(), run.taskIds().size(), details.counts(),
                    details.tasks().stream().map(TaskResponse::of).toList(), details.tasksNextCursor());
        }
    }

    record TaskResponse(String taskId, String status, List<AttemptView> attempts) {
        static TaskResponse of(TaskView task) {
            return new TaskResponse(task.taskId(), task.status().name(), task.attempts());
        }
    }

    record TaskPageResponse(List<TaskResponse> items, String nextCursor) {
    }

    /** A run's tasks in DAG order, a page at a time; tasks not queued yet are {@code PENDING}. */
    @GetMapping("/v1/runs/{id}/tasks")
    TaskPageResponse tasks(Caller caller, @PathVariable String id, @RequestParam(required = false) String cursor,
                           @RequestParam(defaultValue = "100") int limit) {
        RunId runId = runId(id);
        checkPage(cursor, PageCursor.RUN_TASKS, limit);
        TaskPage page = queries.query(new ListRunTasks(caller.org(), runId, cursor, limit),
                ResponseTypes.optionalInstanceOf(TaskPage.class)).join().orElseThrow(() -> runNotFound(id));
        return new TaskPageResponse(page.items().stream().map(TaskResponse::of).toList(), page.nextCursor());
    }

    /**
     * The run's history: every event of the run and its task runs, in stored order, a page at a time, read from the
     * event store. {@code next_cursor} is null once the page reached what is stored now.
     */
    @GetMapping("/v1/runs/{id}/events")
    RunEventPage events(Caller caller, @PathVariable String id, @RequestParam(required = false) String cursor,
                        @RequestParam(defaultValue = "100") int limit) {
        RunId runId = runId(id);
        checkPage(cursor, PageCursor.RUN_EVENTS, limit);
        return queries.query(new ListRunEvents(caller.org(), runId, cursor, limit),
                ResponseTypes.optionalInstanceOf(RunEventPage.class)).join().orElseThrow(() -> runNotFound(id));
    }

    /**
     * Live updates as Server-Sent Events: the run's state, then each of its events as stored, then {@code end} once it
     * finished. Reconnecting with {@code Last-Event-ID} resumes after that event, missing nothing.
     */
    @GetMapping(path = "/v1/runs/{id}/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    SseEmitter stream(Caller caller, @PathVariable String id,
                      @RequestHeader(name = "Last-Event-ID", required = false) String lastEventId) {
        RunId runId = runId(id);
        Long after = null;
        if (lastEventId != null) {
            if (!lastEventId.matches("[0-9]{1,18}")) {
                throw ProblemException.of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The request is invalid.",
                        List.of(new BusinessError.FieldError("Last-Event-ID", "an event id this stream sent"))));
            }
            after = Long.parseLong(lastEventId);
        }
        return streams.open(caller.org(), runId, after).orElseThrow(() -> runNotFound(id));
    }

    private static void checkPage(String cursor, PageCursor kind, int limit) {
        List<BusinessError.FieldError> errors = new ArrayList<>();
        if (limit < 1 || limit > 500) {
            errors.add(new BusinessError.FieldError("limit", "must be 1..500"));
        }
        if (cursor != null && !kind.isValid(cursor)) {
            errors.add(RequestChecks.invalidCursor());
        }
        if (!errors.isEmpty()) {
            throw ProblemException.of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The query is invalid.", errors));
        }
    }

    /** A run id as the client sent it; one that cannot be a run id names no run. */
    private static RunId runId(String id) {
        if (!RunId.isValid(id)) {
            throw runNotFound(id);
        }
        return new RunId(id);
    }

    private static ProblemException runNotFound(String id) {
        return ProblemException.of(ErrorCode.RUN_NOT_FOUND, RunId.isValid(id) ? "No run has id '" + id + "'."
                : "No run has that id.");
    }

    private static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
