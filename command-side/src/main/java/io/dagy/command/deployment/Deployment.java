package io.dagy.command.deployment;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.common.DagyRuleViolation;
import io.dagy.contracts.BusinessError;
import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DeploymentCommands.ChangeDeploymentSettings;
import io.dagy.contracts.deployment.DeploymentCommands.PublishDeployment;
import io.dagy.contracts.deployment.DeploymentEvents.DeploymentPublished;
import io.dagy.contracts.deployment.DeploymentEvents.DeploymentSettingsChanged;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.command.common.Tenancy;
import io.dagy.contracts.deployment.DeploymentId;
import io.dagy.contracts.identity.OrgId;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.messaging.annotation.SourceId;
import org.axonframework.modelling.command.CommandHandlerInterceptor;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.spring.stereotype.Aggregate;

import java.util.ArrayList;
import java.util.List;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A named, versioned DAG and its runtime settings. Publishing an unchanged DAG changes nothing; a changed one becomes
 * the next version. Runs copy the version they start with, so later changes never alter a running run.
 */
@Aggregate(commandTargetResolver = DagyCommandTargetResolver.BEAN_NAME, snapshotTriggerDefinition = "dagySnapshotTrigger",
        cache = "deploymentCache")
public class Deployment {

    @AggregateIdentifier
    private String id;
    private OrgId organization;
    private int version;
    private Dag dag;
    private DeploymentSettings settings;

    protected Deployment() {
        // for Axon
    }

    /** The result of a publish: the version now current, and whether this command created it. */
    public record Published(int version, boolean changed) {
    }

    /** What a run copies when it starts. */
    public record Pinned(int version, Dag dag, DeploymentSettings settings) {
    }

    public Pinned pin() {
        return new Pinned(version, dag, settings);
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    Published handle(PublishDeployment command, BackendPolicy backends) {
        DagValidator.Result result = DagValidator.validate(command.dag());
        if (result instanceof DagValidator.Invalid invalid) {
            throw new DagyRuleViolation(invalid.asError());
        }
        Dag validated = ((DagValidator.Valid) result).dag();
        List<FieldError> refused = new ArrayList<>();
        for (int i = 0; i < validated.tasks().size(); i++) {
            var type = validated.tasks().get(i).backend().type();
            if (!backends.allows(type)) {
                refused.add(new FieldError("tasks[" + i + "].backend.type",
                        "the " + type.wire() + " backend is disabled on this installation"));
            }
        }
        if (!refused.isEmpty()) {
            throw new DagyRuleViolation(new BusinessError(ErrorCode.VALIDATION_FAILED, "The DAG is invalid.", refused));
        }
        if (validated.equals(dag)) {
            return new Published(version, false);
        }
        apply(new DeploymentPublished(command.organization(), command.name(), version + 1, validated,
                settings == null ? DeploymentSettings.defaults() : settings));
        return new Published(version, true);
    }

    @CommandHandler
    DeploymentSettings handle(ChangeDeploymentSettings command) {
        List<FieldError> errors = new ArrayList<>();
        var patch = command.patch();
        if (patch.executionMode() != null && !DeploymentSettings.EXECUTION_MODES.contains(patch.executionMode())) {
            errors.add(new FieldError("execution_mode", "must be one of " + DeploymentSettings.EXECUTION_MODES));
        }
        if (patch.depPackageSlugs() != null && patch.depPackageSlugs().stream().anyMatch(s -> s == null || s.isBlank())) {
            errors.add(new FieldError("dep_package_slugs", "must not contain blank slugs"));
        }
        if (patch.tags() != null && patch.tags().entrySet().stream()
                .anyMatch(tag -> tag.getKey().isBlank() || tag.getValue() == null)) {
            errors.add(new FieldError("tags", "keys must not be blank and values must be strings"));
        }
        if (!errors.isEmpty()) {
            throw new DagyRuleViolation(new BusinessError(ErrorCode.VALIDATION_FAILED, "The settings are invalid.", errors));
        }
        DeploymentSettings changed = settings.with(patch);
        if (!changed.equals(settings)) {
            apply(new DeploymentSettingsChanged(command.name(), changed));
        }
        return changed;
    }

    @CommandHandlerInterceptor
    void stampOrganization() {
        Tenancy.stamp(organization);
    }

    @EventSourcingHandler
    void on(DeploymentPublished event, @SourceId String streamId) {
        // the stream's own identifier: the bare name of a deployment stored before tenancy (DeploymentIds), else
        // deployment:<org>:<name>; while the aggregate is created the event has no identifier yet, and is a new one
        id = streamId != null ? streamId : new DeploymentId(event.organization(), event.name()).toString();
        organization = event.organization();
        version = event.version();
        dag = event.dag();
        settings = event.settings();
    }

    @EventSourcingHandler
    void on(DeploymentSettingsChanged event) {
        settings = event.settings();
    }
}
