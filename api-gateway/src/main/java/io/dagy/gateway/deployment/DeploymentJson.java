package io.dagy.gateway.deployment;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DagDraft;
import io.dagy.contracts.deployment.DeploymentQueries.DeploymentView;
import io.dagy.contracts.deployment.DeploymentSettings;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON shapes of the deployment API (snake_case on the wire) and their mapping to contracts. */
final class DeploymentJson {

    private DeploymentJson() {
    }

    /** {@code PUT /v1/deployments/{name}}: the backend is one object with its type beside its settings. */
    record DagRequest(String description, List<TaskRequest> tasks) {
        DagDraft toDraft() {
            return new DagDraft(description, tasks == null ? null
                    : tasks.stream().map(task -> task == null ? null : task.toDraft()).toList());
        }
    }

    record TaskRequest(String id, Map<String, Object> backend, List<String> dependsOn, String triggerRule,
                       DagDraft.RetryDraft retry, DagDraft.TimeoutsDraft timeouts, Map<String, Object> params) {
        DagDraft.TaskDraft toDraft() {
            DagDraft.BackendDraft backendDraft = null;
            if (backend != null) {
                Map<String, Object> config = new LinkedHashMap<>(backend);
                Object type = config.remove("type");
                backendDraft = new DagDraft.BackendDraft(type instanceof String text ? text : null, config);
            }
            return new DagDraft.TaskDraft(id, backendDraft, dependsOn, triggerRule, retry, timeouts, params);
        }
    }

    record PublishResponse(String name, int version, boolean changed) {
    }

    /** {@code schedule}: a cron expression or an ISO-8601 interval, {@code ""} to remove it (docs/schedules.md). */
    record SettingsRequest(String executionMode, List<String> depPackageSlugs, Map<String, String> tags, String schedule) {
        DeploymentSettings.SettingsPatch toPatch() {
            return new DeploymentSettings.SettingsPatch(executionMode, depPackageSlugs, tags);
        }
    }

    /** {@code schedule} only in the answer to a change that sent one (the schedule itself is {@code schedules/settings}). */
    record SettingsResponse(String executionMode, List<String> depPackageSlugs, Map<String, String> tags,
                            @JsonInclude(JsonInclude.Include.NON_NULL) String schedule) {
        static SettingsResponse of(DeploymentSettings settings) {
            return of(settings, null);
        }

        static SettingsResponse of(DeploymentSettings settings, String schedule) {
            return new SettingsResponse(settings.executionMode(), settings.depPackageSlugs(), settings.tags(), schedule);
        }
    }

    record DeploymentResponse(String name, int version, String description, List<TaskResponse> tasks,
                              SettingsResponse settings, Instant updatedAt) {
        static DeploymentResponse of(DeploymentView view) {
            return new DeploymentResponse(view.name().value(), view.version(), view.dag().description(),
                    view.dag().tasks().stream().map(TaskResponse::of).toList(), SettingsResponse.of(view.settings()),
                    view.updatedAt());
        }
    }

    record TaskResponse(String id, Map<String, Object> backend, List<String> dependsOn, String triggerRule,
                        RetryResponse retry, TimeoutsResponse timeouts, Map<String, Object> params) {
        static TaskResponse of(Dag.Task task) {
            Map<String, Object> backend = new LinkedHashMap<>();
            backend.put("type", task.backend().type().wire());
            backend.putAll(task.backend().config());
            Dag.RetryPolicy retry = task.retry();
            return new TaskResponse(task.id(), backend, task.dependsOn(), task.triggerRule().wire(),
                    new RetryResponse(retry.maxAttempts(), iso(retry.initialInterval()), retry.backoffRate(),
                            iso(retry.maxDelay()), retry.jitter(), retry.retryOn()),
                    new TimeoutsResponse(iso(task.timeouts().scheduleToStart()), iso(task.timeouts().startToClose()),
                            iso(task.timeouts().heartbeat())),
                    task.params());
        }
    }

    record RetryResponse(int maxAttempts, String initialInterval, double backoffRate, String maxDelay, boolean jitter,
                         List<String> retryOn) {
    }

    record TimeoutsResponse(String scheduleToStart, String startToClose, String heartbeat) {
    }

    record DeploymentPageResponse(List<DeploymentResponse> items, String nextCursor) {
    }

    private static String iso(Duration duration) {
        return duration == null ? null : duration.toString();
    }
}
