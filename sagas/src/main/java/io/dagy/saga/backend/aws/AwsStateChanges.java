package io.dagy.saga.backend.aws;

import io.dagy.contracts.deployment.BackendType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.util.Optional;

/**
 * Turns the state changes AWS delivers to the events queue into Dagy's own report shape ({@code dispatch_id},
 * {@code kind}, {@code output} or {@code error_kind} and {@code message}), by the execution name each one carries:
 * <ul>
 *   <li>EventBridge {@code Step Functions Execution Status Change}: {@code detail.name}; RUNNING is a start,
 *       SUCCEEDED a success with the output, FAILED, TIMED_OUT and ABORTED failures;</li>
 *   <li>EventBridge {@code ECS Task State Change}: {@code detail.startedBy}; RUNNING is a start, STOPPED a success when
 *       every container exited 0, else a failure {@code exit_<n>} or, when it never ran, {@code launch_failed};</li>
 *   <li>Lambda destination records, inside EventBridge ({@code Lambda Function Invocation Result - Success/Failure})
 *       or sent straight to the queue: {@code requestPayload.execution_name}; the response payload is the output, or
 *       its {@code errorType} the error kind.</li>
 * </ul>
 * An execution name that Dagy did not dispatch, or one dispatched to another backend, is {@link Unknown}.
 */
public final class AwsStateChanges {

    /** What a queued message is, as far as AWS state changes go. */
    public sealed interface Translation {
    }

    /** Not an AWS state change: Dagy's own report shape, or nothing known. */
    public record NotAwsEvent() implements Translation {
    }

    /** A state change that tells the task run nothing (e.g. an ECS task still provisioning). */
    public record Ignored(String why) implements Translation {
    }

    /** A state change of nothing Dagy dispatched: it goes to the dead-letter queue with this reason. */
    public record Unknown(String reason) implements Translation {
    }

    /** The report it means, in Dagy's report shape. */
    public record Report(JsonNode report) implements Translation {
    }

    private final AwsDispatches dispatches;
    private final JsonMapper json;

    public AwsStateChanges(AwsDispatches dispatches, JsonMapper json) {
        this.dispatches = dispatches;
        this.json = json;
    }

    public Translation translate(JsonNode message) {
        String detailType = message.path("detail-type").asString("");
        JsonNode detail = message.path("detail");
        return switch (detailType) {
            case "Step Functions Execution Status Change" -> stepFunctions(detail);
            case "ECS Task State Change" -> ecs(detail);
            case "Lambda Function Invocation Result - Success", "Lambda Function Invocation Result - Failure" ->
                    lambda(detail);
            default -> message.has("requestContext") && message.has("requestPayload") ? lambda(message)
                    : detailType.isEmpty() ? new NotAwsEvent() : new Unknown("unhandled detail-type '" + detailType + "'");
        };
    }

    private Translation stepFunctions(JsonNode detail) {
        return known(detail.path("name").asString(""), BackendType.STEP_FUNCTIONS).map(dispatchId -> {
            String status = detail.path("status").asString("");
            return switch (status) {
                case "RUNNING" -> report(dispatchId, "started");
                case "SUCCEEDED" -> {
                    ObjectNode report = (ObjectNode) ((Report) report(dispatchId, "succeeded")).report();
                    report.set("output", outputOf(detail.path("output")));
                    yield new Report(report);
                }
                case "FAILED" -> failed(dispatchId, detail.path("error").asString("execution_failed"),
                        detail.path("cause").asString(""));
                case "TIMED_OUT" -> failed(dispatchId, "execution_timed_out", "the state machine's own timeout");
                case "ABORTED" -> failed(dispatchId, "aborted", "the execution was stopped");
                default -> (Translation) new Ignored("execution status " + status);
            };
        }).orElseGet(() -> unknown("Step Functions execution", detail.path("name").asString("")));
    }

    private Translation ecs(JsonNode detail) {
        String name = detail.path("startedBy").asString("");
        return known(name, BackendType.ECS).map(dispatchId -> {
            String status = detail.path("lastStatus").asString("");
            if ("RUNNING".equals(status)) {
                return report(dispatchId, "started");
            }
            if (!"STOPPED".equals(status)) {
                return (Translation) new Ignored("task status " + status);
            }
            boolean allExited = true;
            for (JsonNode container : detail.path("containers")) {
                if (!container.has("exitCode") || container.get("exitCode").isNull()) {
                    allExited = false;
                } else if (container.get("exitCode").asInt() != 0) {
                    int code = container.get("exitCode").asInt();
                    return failed(dispatchId, "exit_" + code, container.path("name").asString("") + " exited with code "
                            + code + ": " + detail.path("stoppedReason").asString(""));
                }
            }
            if (!allExited || detail.path("containers").isEmpty()) {
                return failed(dispatchId, "launch_failed", detail.path("stopCode").asString("") + ": "
                        + detail.path("stoppedReason").asString(""));
            }
            ObjectNode report = (ObjectNode) ((Report) report(dispatchId, "succeeded")).report();
            report.putObject("output").put("exit_code", 0).put("task_arn", detail.path("taskArn").asString(""));
            return new Report(report);
        }).orElseGet(() -> unknown("ECS task started by", name));
    }

    private Translation lambda(JsonNode record) {
        String name = record.path("requestPayload").path("execution_name").asString("");
        return known(name, BackendType.LAMBDA).map(dispatchId -> {
            JsonNode response = record.path("responsePayload");
            String condition = record.path("requestContext").path("condition").asString("");
            boolean functionError = record.path("responseContext").has("functionError");
            if ("Success".equals(condition) && !functionError) {
                ObjectNode report = (ObjectNode) ((Report) report(dispatchId, "succeeded")).report();
                report.set("output", outputOf(response));
                return (Translation) new Report(report);
            }
            String kind = response.path("errorType").asString("");
            return failed(dispatchId, kind.isBlank() ? "function_error" : kind,
                    response.path("errorMessage").asString(condition));
        }).orElseGet(() -> unknown("Lambda invocation", name));
    }

    /** The dispatch id of an execution name Dagy dispatched to {@code backend}. */
    private Optional<String> known(String name, BackendType backend) {
        if (name.isBlank() || !name.startsWith("dagy-")) {
            return Optional.empty();
        }
        return dispatches.find(name).filter(record -> record.backend() == backend).map(AwsDispatches.Record::dispatchId);
    }

    private static Translation unknown(String what, String name) {
        return new Unknown("no dispatch of Dagy is the " + what + " '" + name + "'");
    }

    private Translation report(String dispatchId, String kind) {
        ObjectNode report = json.createObjectNode();
        report.put("dispatch_id", dispatchId).put("kind", kind);
        return new Report(report);
    }

    private Translation failed(String dispatchId, String errorKind, String message) {
        ObjectNode report = (ObjectNode) ((Report) report(dispatchId, "failed")).report();
        report.put("error_kind", errorKind(errorKind)).put("message", message.length() > 4_000
                ? message.substring(0, 4_000) : message);
        return new Report(report);
    }

    /** An AWS error name as an error kind: letters, digits, '_', '.', ':' and '-', at most 128. */
    static String errorKind(String error) {
        String kind = error.replaceAll("[^A-Za-z0-9_.:-]", "_");
        kind = kind.length() > 128 ? kind.substring(0, 128) : kind;
        return kind.isEmpty() ? "execution_failed" : kind;
    }

    /** An output that is a JSON object as it is; anything else (Step Functions sends a string) parsed or wrapped. */
    private JsonNode outputOf(JsonNode output) {
        JsonNode value = output;
        if (output.isString()) {
            try {
                value = json.readTree(output.asString());
            } catch (RuntimeException notJson) {
                value = output;
            }
        }
        if (value.isObject()) {
            return value;
        }
        ObjectNode wrapped = json.createObjectNode();
        if (!value.isMissingNode() && !value.isNull()) {
            wrapped.set("result", value);
        }
        return wrapped;
    }
}
