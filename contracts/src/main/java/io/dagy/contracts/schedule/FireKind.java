package io.dagy.contracts.schedule;

import java.util.Locale;

/** Why a schedule fired. */
public enum FireKind {
    /** At its fire time (give or take the jitter and the deadline poll). */
    SCHEDULED,
    /** Late, after the nodes were down or the fire waited: within the catch-up window. */
    CATCH_UP,
    /** Asked for with {@code POST …/trigger}. */
    MANUAL,
    /** Part of a backfill of a range. */
    BACKFILL;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
