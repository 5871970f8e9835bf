package io.dagy.contracts.deployment;

import java.util.Arrays;
import java.util.Optional;

/** When a task may run, given the final states of its upstream tasks (names as in Airflow). */
public enum TriggerRule {
    ALL_SUCCESS("all_success"),
    ALL_FAILED("all_failed"),
    ALL_DONE("all_done"),
    ONE_SUCCESS("one_success"),
    ONE_FAILED("one_failed"),
    NONE_FAILED("none_failed"),
    NONE_FAILED_MIN_ONE_SUCCESS("none_failed_min_one_success"),
    ALWAYS("always");

    private final String wire;

    TriggerRule(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static Optional<TriggerRule> fromWire(String value) {
        return Arrays.stream(values()).filter(rule -> rule.wire.equals(value)).findFirst();
    }
}
