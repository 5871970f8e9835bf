package io.dagy.command.schedule;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The time schedules read "now" from (a handler parameter, so tests move it). A holder rather than a {@link Clock}
 * bean, so that the application's own clocks stay as they are.
 */
public final class ScheduleClock {

    private final Clock clock;

    public ScheduleClock(Clock clock) {
        this.clock = clock;
    }

    /** Now, to the millisecond (the precision of deadlines and of the event store's timestamps). */
    public Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }
}
