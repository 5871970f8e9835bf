package io.dagy.contracts.user;

import io.dagy.contracts.AggregateCommand;

import java.time.Instant;
import java.util.Objects;

/** Commands on users, sent when the identity provider reports a change. Both are safe to send twice. */
public final class UserCommands {

    private UserCommands() {
    }

    /**
     * Registers a user, or updates the profile of a registered one. A profile older than the one applied is ignored
     * (deliveries arrive out of order); a deleted user stays deleted.
     *
     * @param primaryEmail     the primary email address, or null when the user has none (phone-only sign-up)
     * @param name             first and last name, or null when the user gave none
     * @param profileChangedAt when the identity provider last changed the profile (its {@code updated_at}), to order
     *                         deliveries; not a clock reading of ours
     */
    public record RegisterUser(UserId userId, String primaryEmail, String name, Instant profileChangedAt)
            implements AggregateCommand {
        public RegisterUser {
            Objects.requireNonNull(userId, "userId");
            Objects.requireNonNull(profileChangedAt, "profileChangedAt");
        }

        @Override
        public String targetAggregateId() {
            return userId.toString();
        }
    }

    /** Deletes a user for good: the identity provider never reuses a user id. */
    public record DeleteUser(UserId userId) implements AggregateCommand {
        public DeleteUser {
            Objects.requireNonNull(userId, "userId");
        }

        @Override
        public String targetAggregateId() {
            return userId.toString();
        }
    }
}
