package io.dagy.contracts.user;

/**
 * A user as the directory knows them. A deleted user keeps only the id and the flag: email and name are dropped.
 */
public record UserView(UserId userId, String primaryEmail, String name, boolean deleted) {
}
