package io.dagy.command.deployment;

import io.dagy.contracts.deployment.BackendType;

import java.util.EnumSet;
import java.util.Set;

/**
 * Which execution backends this installation accepts in deployments. The {@code local} backend runs shell commands on
 * the node itself: on a shared installation that is a remote shell for anyone who may publish, so the {@code aws}
 * profile refuses it unless {@code DAGY_LOCAL_BACKEND_ENABLED=true}.
 */
public record BackendPolicy(Set<BackendType> refused) {

    public BackendPolicy {
        refused = refused.isEmpty() ? EnumSet.noneOf(BackendType.class) : EnumSet.copyOf(refused);
    }

    public static BackendPolicy allowingAll() {
        return new BackendPolicy(Set.of());
    }

    public static BackendPolicy of(boolean localBackendEnabled) {
        return localBackendEnabled ? allowingAll() : new BackendPolicy(Set.of(BackendType.LOCAL));
    }

    public boolean allows(BackendType type) {
        return !refused.contains(type);
    }
}
