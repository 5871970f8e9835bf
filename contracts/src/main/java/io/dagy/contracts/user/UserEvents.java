package io.dagy.contracts.user;

import java.time.Instant;

/**
 * Events of users. They hold personal data (email, name) and nothing else about the person: no tokens, no secrets,
 * no provider metadata. Never rename or move these records: stored events name their class.
 */
public final class UserEvents {

    private UserEvents() {
    }

    /** A user became known. {@code primaryEmail} and {@code name} may be null. */
    public record UserRegistered(UserId userId, String primaryEmail, String name, Instant profileChangedAt) {
    }

    /** A registered user's email or name changed (the complete new profile). */
    public record UserUpdated(UserId userId, String primaryEmail, String name, Instant profileChangedAt) {
    }

    /**
     * A user was deleted, for good. Also the first event of a user whose deletion arrived before their registration,
     * so that the late registration cannot bring them back.
     */
    public record UserDeleted(UserId userId) {
    }
}
