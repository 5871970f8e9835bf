package io.dagy.gateway.schedule;

import io.dagy.command.schedule.Schedule;
import io.dagy.command.schedule.ScheduleRules;
import io.dagy.contracts.BusinessError;
import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.schedule.OverlapPolicy;
import io.dagy.contracts.schedule.ScheduleCommands.BackfillSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.DeleteSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.DescribeSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.PauseSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.PutSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.TriggerSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.UnpauseSchedule;
import io.dagy.contracts.schedule.ScheduleId;
import io.dagy.contracts.schedule.ScheduleSpec;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.schedule.ScheduleJson.BackfillRequest;
import io.dagy.gateway.schedule.ScheduleJson.BackfillResponse;
import io.dagy.gateway.schedule.ScheduleJson.PauseRequest;
import io.dagy.gateway.schedule.ScheduleJson.ScheduleRequest;
import io.dagy.gateway.schedule.ScheduleJson.ScheduleListResponse;
import io.dagy.gateway.schedule.ScheduleJson.ScheduleResponse;
import io.dagy.gateway.schedule.ScheduleJson.ScheduleSummaryResponse;
import io.dagy.gateway.schedule.ScheduleJson.TriggerResponse;
import io.dagy.gateway.security.Caller;
import org.axonframework.commandhandling.gateway.CommandGateway;
import io.dagy.contracts.schedule.ScheduleQueries.ListSchedules;
import io.dagy.contracts.schedule.ScheduleQueries.ScheduleList;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.axonframework.modelling.command.AggregateNotFoundException;
import org.axonframework.queryhandling.QueryGateway;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Schedules of the caller's organization's deployments (docs/schedules.md). A schedule is read from its aggregate
 * (strongly consistent), so a GET right after a change shows it. Another organization's schedule, or one of another
 * deployment, is not found.
 */
@RestController
@RequestMapping("/v1/deployments/{name}/schedules")
class ScheduleController {

    /** How many upcoming fire times a read shows. */
    static final int NEXT_FIRE_TIMES = 10;

    private final CommandGateway commands;
    private final QueryGateway queries;

    ScheduleController(CommandGateway commands, QueryGateway queries) {
        this.commands = commands;
        this.queries = queries;
    }

    /** The deployment's schedules by id, from the schedule views (a change shows a moment later). */
    @GetMapping
    ScheduleListResponse list(Caller caller, @PathVariable String name) {
        ScheduleList list = queries.query(new ListSchedules(caller.org(), deployment(name)),
                ResponseTypes.instanceOf(ScheduleList.class)).join();
        return new ScheduleListResponse(list.items().stream().map(ScheduleSummaryResponse::of).toList());
    }

    /**
     * Creates a schedule: 201 with its id and its next fire times. With an {@code Idempotency-Key}, the id is derived
     * from organization, deployment and key, so a repeated request answers with the same schedule.
     */
    @PostMapping(consumes = "application/json")
    @ResponseStatus(HttpStatus.CREATED)
    ScheduleResponse create(Caller caller, @PathVariable String name, @RequestBody ScheduleRequest request,
                            @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey) {
        DeploymentName deployment = deployment(name);
        String id = idempotencyKey == null ? "s-" + UUID.randomUUID().toString().replace("-", "").substring(0, 20)
                : "s-" + sha256(caller.org().value() + "\n" + name + "\n" + idempotencyKey).substring(0, 20);
        return put(new ScheduleId(caller.org(), deployment, id), request, false);
    }

    @GetMapping("/{scheduleId}")
    ScheduleResponse find(Caller caller, @PathVariable String name, @PathVariable String scheduleId) {
        ScheduleId id = scheduleId(caller.org(), name, scheduleId);
        return ScheduleResponse.of(send(id, () -> new DescribeSchedule(id, NEXT_FIRE_TIMES)));
    }

    /** Replaces the spec and params of an existing schedule; its next fire is planned afresh. */
    @PutMapping(path = "/{scheduleId}", consumes = "application/json")
    ScheduleResponse replace(Caller caller, @PathVariable String name, @PathVariable String scheduleId,
                             @RequestBody ScheduleRequest request) {
        return put(scheduleId(caller.org(), name, scheduleId), request, true);
    }

    @DeleteMapping("/{scheduleId}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(Caller caller, @PathVariable String name, @PathVariable String scheduleId) {
        ScheduleId id = scheduleId(caller.org(), name, scheduleId);
        send(id, () -> new DeleteSchedule(id));
    }

    @PostMapping("/{scheduleId}/pause")
    ScheduleResponse pause(Caller caller, @PathVariable String name, @PathVariable String scheduleId,
                           @RequestBody(required = false) PauseRequest request) {
        ScheduleId id = scheduleId(caller.org(), name, scheduleId);
        return ScheduleResponse.of(send(id, () -> new PauseSchedule(id, request == null ? null : request.note())));
    }

    @PostMapping("/{scheduleId}/unpause")
    ScheduleResponse unpause(Caller caller, @PathVariable String name, @PathVariable String scheduleId) {
        ScheduleId id = scheduleId(caller.org(), name, scheduleId);
        return ScheduleResponse.of(send(id, () -> new UnpauseSchedule(id)));
    }

    /** Fires now, under the schedule's overlap policy: 202 with what happened and the run it started, if any. */
    @PostMapping("/{scheduleId}/trigger")
    @ResponseStatus(HttpStatus.ACCEPTED)
    TriggerResponse trigger(Caller caller, @PathVariable String name, @PathVariable String scheduleId) {
        ScheduleId id = scheduleId(caller.org(), name, scheduleId);
        Schedule.Triggered triggered = send(id, () -> new TriggerSchedule(id));
        return new TriggerResponse(triggered.outcome(), triggered.runId() == null ? null : triggered.runId().value(),
                triggered.fireTime().toString());
    }

    /** Fires once for every fire time of {@code [from, to]}: 202 with how many (the runs follow in steps of 10). */
    @PostMapping(path = "/{scheduleId}/backfill", consumes = "application/json")
    @ResponseStatus(HttpStatus.ACCEPTED)
    BackfillResponse backfill(Caller caller, @PathVariable String name, @PathVariable String scheduleId,
                              @RequestBody BackfillRequest request) {
        ScheduleId id = scheduleId(caller.org(), name, scheduleId);
        List<FieldError> errors = new ArrayList<>();
        Instant from = ScheduleJson.parse("from", request.from(), ScheduleJson::instant,
                "an ISO-8601 instant with an offset", null, errors);
        Instant to = ScheduleJson.parse("to", request.to(), ScheduleJson::instant, "an ISO-8601 instant with an offset",
                null, errors);
        OverlapPolicy overlap = ScheduleJson.overlap(request.overlap(), "overlap", errors);
        if (!errors.isEmpty()) {
            throw ProblemException.of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The backfill is invalid.", errors));
        }
        Integer count = send(id, () -> new BackfillSchedule(id, from, to, overlap));
        return new BackfillResponse(count);
    }

    private ScheduleResponse put(ScheduleId id, ScheduleRequest request, boolean mustExist) {
        List<FieldError> errors = new ArrayList<>();
        ScheduleSpec spec = request.toSpec(errors);
        Map<String, Object> params = request.params() == null ? Map.of() : request.params();
        List<FieldError> semantic = ScheduleRules.validate(spec, params);
        semantic.stream().filter(error -> errors.stream().noneMatch(parsed -> parsed.field().equals(error.field())))
                .forEach(errors::add);
        if (!errors.isEmpty()) {
            throw ProblemException.of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The schedule is invalid.", errors));
        }
        return ScheduleResponse.of(send(id, () -> new PutSchedule(id, spec, params, mustExist)));
    }

    private <R> R send(ScheduleId id, Supplier<Object> command) {
        try {
            return commands.sendAndWait(command.get());
        } catch (AggregateNotFoundException missing) {
            throw notFound(id.id());
        }
    }

    private static DeploymentName deployment(String name) {
        if (!DeploymentName.isValid(name)) {
            throw ProblemException.of(ErrorCode.DEPLOYMENT_NOT_FOUND, "No deployment is named '" + name + "'.");
        }
        return new DeploymentName(name);
    }

    /** A schedule id as the client sent it; one that cannot be a schedule id names no schedule. */
    private static ScheduleId scheduleId(OrgId org, String name, String id) {
        DeploymentName deployment = deployment(name);
        if (!ScheduleId.isValid(id)) {
            throw notFound(null);
        }
        return new ScheduleId(org, deployment, id);
    }

    private static ProblemException notFound(String id) {
        return ProblemException.of(ErrorCode.SCHEDULE_NOT_FOUND, id == null ? "No schedule has that id."
                : "No schedule has id '" + id + "'.");
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
