package io.dagy.command.schedule;

import io.dagy.contracts.run.RunId;
import io.dagy.contracts.schedule.ScheduleId;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * The run id of a fire: derived from the idempotency key {@code <schedule>@<fire time>} (plus the trigger or backfill
 * number for fires asked for by hand), so a fire is one run however often it is handled: a second start of the same
 * run id is refused by the event store.
 */
final class ScheduleRunIds {

    private ScheduleRunIds() {
    }

    static RunId scheduled(ScheduleId schedule, Instant fireTime) {
        return of(schedule + "@" + fireTime);
    }

    static RunId manual(ScheduleId schedule, Instant fireTime, long trigger) {
        return of(schedule + "@" + fireTime + "/trigger-" + trigger);
    }

    static RunId backfill(ScheduleId schedule, Instant fireTime, int backfill) {
        return of(schedule + "@" + fireTime + "/backfill-" + backfill);
    }

    private static RunId of(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return new RunId("r-" + HexFormat.of().formatHex(digest).substring(0, 32));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
