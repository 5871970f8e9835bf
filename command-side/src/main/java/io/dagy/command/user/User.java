package io.dagy.command.user;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.contracts.user.UserCommands.DeleteUser;
import io.dagy.contracts.user.UserCommands.RegisterUser;
import io.dagy.contracts.user.UserEvents.UserDeleted;
import io.dagy.contracts.user.UserEvents.UserRegistered;
import io.dagy.contracts.user.UserEvents.UserUpdated;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.spring.stereotype.Aggregate;

import java.time.Instant;
import java.util.Objects;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A person known from the identity provider. Its webhook delivers at least once and in no particular order, so every
 * command is safe to repeat and to reorder: a repeated or older profile changes nothing, and deletion is final (the
 * provider never reuses a user id), also when it arrives before the registration.
 */
@Aggregate(commandTargetResolver = DagyCommandTargetResolver.BEAN_NAME)
public class User {

    @AggregateIdentifier
    private String id;
    private String primaryEmail;
    private String name;
    private Instant profileChangedAt;
    private boolean deleted;

    protected User() {
        // for Axon
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    void handle(RegisterUser command) {
        if (deleted) {
            return; // a late or repeated delivery: a deleted user never comes back
        }
        if (id == null) {
            apply(new UserRegistered(command.userId(), command.primaryEmail(), command.name(),
                    command.profileChangedAt()));
            return;
        }
        if (command.profileChangedAt().isBefore(profileChangedAt)) {
            return; // an older profile than the one applied, delivered late
        }
        if (Objects.equals(command.primaryEmail(), primaryEmail) && Objects.equals(command.name(), name)) {
            return; // nothing Dagy keeps changed
        }
        apply(new UserUpdated(command.userId(), command.primaryEmail(), command.name(), command.profileChangedAt()));
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    void handle(DeleteUser command) {
        if (!deleted) {
            apply(new UserDeleted(command.userId()));
        }
    }

    @EventSourcingHandler
    void on(UserRegistered event) {
        id = event.userId().toString();
        primaryEmail = event.primaryEmail();
        name = event.name();
        profileChangedAt = event.profileChangedAt();
    }

    @EventSourcingHandler
    void on(UserUpdated event) {
        primaryEmail = event.primaryEmail();
        name = event.name();
        profileChangedAt = event.profileChangedAt();
    }

    @EventSourcingHandler
    void on(UserDeleted event) {
        id = event.userId().toString();
        deleted = true;
        primaryEmail = null;
        name = null;
    }
}
