package io.dagy.contracts.schedule;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * What a fire does while a run the schedule started earlier still runs (names as Temporal's). See docs/schedules.md.
 */
public enum OverlapPolicy {
    /** The fire is skipped and counted (the default). */
    SKIP,
    /** The fire waits until the running run ends; at most one waits, later ones are skipped. */
    BUFFER_ONE,
    /** Every fire waits its turn; runs follow each other in fire-time order (at most {@code 1000} waiting). */
    BUFFER_ALL,
    /** The running runs are cancelled; the fire waits until they have ended, then starts. */
    CANCEL_OTHER,
    /** Dagy has no terminate: the running runs are cancelled, as with cancel_other, but the fire starts at once. */
    TERMINATE_OTHER,
    /** The fire starts a run whatever runs. */
    ALLOW_ALL;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<OverlapPolicy> fromWire(String wire) {
        return Arrays.stream(values()).filter(policy -> policy.wire().equals(wire)).findFirst();
    }
}
