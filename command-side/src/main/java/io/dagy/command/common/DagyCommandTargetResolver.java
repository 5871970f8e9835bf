package io.dagy.command.common;

import io.dagy.command.deployment.DeploymentIds;
import io.dagy.contracts.AggregateCommand;
import io.dagy.contracts.deployment.DeploymentCommands.ChangeDeploymentSettings;
import io.dagy.contracts.deployment.DeploymentCommands.PublishDeployment;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.modelling.command.AnnotationCommandTargetResolver;
import org.axonframework.modelling.command.CommandTargetResolver;
import org.axonframework.modelling.command.VersionedAggregateIdentifier;

/**
 * Routes commands that implement {@link AggregateCommand}, so contract records need no Axon annotation; other commands
 * are routed by Axon's {@code @TargetAggregateIdentifier}.
 */
public final class DagyCommandTargetResolver implements CommandTargetResolver {

    private final CommandTargetResolver annotated = AnnotationCommandTargetResolver.builder().build();
    private final DeploymentIds deployments;

    public DagyCommandTargetResolver(DeploymentIds deployments) {
        this.deployments = deployments;
    }

    /** The bean name aggregates refer to in {@code @Aggregate(commandTargetResolver = ...)}. */
    public static final String BEAN_NAME = "dagyCommandTargetResolver";

    @Override
    public VersionedAggregateIdentifier resolveTarget(CommandMessage<?> command) {
        if (command.getPayload() instanceof PublishDeployment publish) {
            return new VersionedAggregateIdentifier(deployments.aggregateId(publish.organization(), publish.name()), null);
        }
        if (command.getPayload() instanceof ChangeDeploymentSettings change) {
            return new VersionedAggregateIdentifier(deployments.aggregateId(change.organization(), change.name()), null);
        }
        if (command.getPayload() instanceof AggregateCommand addressed) {
            return new VersionedAggregateIdentifier(addressed.targetAggregateId(), null);
        }
        return annotated.resolveTarget(command);
    }
}
