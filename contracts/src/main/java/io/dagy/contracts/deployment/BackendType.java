package io.dagy.contracts.deployment;

import java.util.Arrays;
import java.util.Optional;

/** Execution backends a task may name. */
public enum BackendType {
    /** Completes at once: for tests and benchmarks. */
    NOOP("noop"),
    /** A subprocess on the Dagy node. */
    LOCAL("local"),
    /** An external worker that long-polls the API. */
    WORKER("worker"),
    LAMBDA("lambda"),
    STEP_FUNCTIONS("step_functions"),
    ECS("ecs");

    private final String wire;

    BackendType(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static Optional<BackendType> fromWire(String value) {
        return Arrays.stream(values()).filter(type -> type.wire.equals(value)).findFirst();
    }
}
