package io.dagy.contracts.identity;

import java.util.EnumSet;
import java.util.Set;

import static io.dagy.contracts.identity.Permission.*;

/**
 * A member's or key's role in an organization. Each role has every permission of the roles below it. This enum is the
 * whole permission matrix (docs/security.md prints it); the REST edge asks it and nothing else.
 */
public enum Role {
    /** Reads deployments, runs and the organization. */
    VIEWER(EnumSet.of(READ)),
    /** Also publishes deployments and starts, cancels and reruns runs. */
    DEVELOPER(EnumSet.of(READ, DEPLOY, OPERATE_RUNS)),
    /** Also changes deployment settings, manages members and API keys, reads the audit log and usage. */
    ADMIN(EnumSet.of(READ, DEPLOY, OPERATE_RUNS, CHANGE_SETTINGS, MANAGE_MEMBERS, MANAGE_API_KEYS, READ_AUDIT,
            READ_USAGE)),
    /**
     * Also replays the audit log, manages billing and can delete the organization. An owner of the {@code default} organization also operates
     * the installation ({@link Permission#OPERATE_INSTALLATION}).
     */
    OWNER(EnumSet.of(READ, DEPLOY, OPERATE_RUNS, CHANGE_SETTINGS, MANAGE_MEMBERS, MANAGE_API_KEYS, READ_AUDIT,
            READ_USAGE, REPLAY_AUDIT, MANAGE_BILLING, DELETE_ORGANIZATION, OPERATE_INSTALLATION)),
    /**
     * A worker key's role: only polls for and reports on task attempts of its organization. Not a member role; it is
     * outside the ladder above on purpose, so no human role implies it and it implies nothing else.
     */
    WORKER(EnumSet.of(WORK));

    private final Set<Permission> permissions;

    Role(Set<Permission> permissions) {
        this.permissions = Set.copyOf(permissions);
    }

    public boolean allows(Permission permission) {
        return permissions.contains(permission);
    }

    public Set<Permission> permissions() {
        return permissions;
    }

    /** The roles a person can hold in an organization (not {@link #WORKER}). */
    public boolean isMemberRole() {
        return this != WORKER;
    }

    /** Whether this role holds every permission of {@code other}: nobody grants more than they have. */
    public boolean covers(Role other) {
        return permissions.containsAll(other.permissions);
    }

    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Role fromCode(String code) {
        return valueOf(code.toUpperCase(java.util.Locale.ROOT));
    }
}
