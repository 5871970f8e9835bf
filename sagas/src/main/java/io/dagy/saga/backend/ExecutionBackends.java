package io.dagy.saga.backend;

import io.dagy.contracts.deployment.BackendType;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** The backends this node has, by type. */
public final class ExecutionBackends {

    private final Map<BackendType, ExecutionBackend> byType = new EnumMap<>(BackendType.class);

    public ExecutionBackends(List<ExecutionBackend> backends) {
        backends.forEach(backend -> byType.put(backend.type(), backend));
    }

    /** The backend of a type; check {@link #has} first. */
    public ExecutionBackend of(BackendType type) {
        ExecutionBackend backend = byType.get(type);
        if (backend == null) {
            throw new IllegalArgumentException("this node has no " + type.wire() + " backend");
        }
        return backend;
    }

    public boolean has(BackendType type) {
        return byType.containsKey(type);
    }
}
