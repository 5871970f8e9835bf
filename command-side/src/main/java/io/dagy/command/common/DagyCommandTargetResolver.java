package io.dagy.command.common;

import io.dagy.contracts.AggregateCommand;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.modelling.command.CommandTargetResolver;
import org.axonframework.modelling.command.VersionedAggregateIdentifier;

/** Routes commands that implement {@link AggregateCommand}, so contract records need no Axon annotation. */
public final class DagyCommandTargetResolver implements CommandTargetResolver {

    /** The bean name aggregates refer to in {@code @Aggregate(commandTargetResolver = ...)}. */
    public static final String BEAN_NAME = "dagyCommandTargetResolver";

    @Override
    public VersionedAggregateIdentifier resolveTarget(CommandMessage<?> command) {
        if (command.getPayload() instanceof AggregateCommand addressed) {
            return new VersionedAggregateIdentifier(addressed.targetAggregateId(), null);
        }
        throw new IllegalArgumentException(command.getPayloadType().getSimpleName()
                + " does not name its aggregate: implement AggregateCommand");
    }
}
