package io.dagy.command.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.dagy.contracts.schedule.ScheduleId;
import io.dagy.contracts.schedule.ScheduleSpec;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.zone.ZoneOffsetTransition;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The fire times of a valid {@link ScheduleSpec} (docs/schedules.md):
 * <ul>
 *   <li><b>cron</b> is matched against the wall clock of the time zone. cron-utils finds the matching local times (on a
 *   zone without daylight saving time, so it never has to decide about gaps), and this class maps each to an instant:
 *   a local time that does not exist (the spring-forward gap) fires at the first instant after the gap; a local time
 *   that occurs twice (fall-back) fires once, at its first occurrence. Equal instants fire once.</li>
 *   <li><b>interval</b> fires at {@code epoch + offset + k * interval} in absolute time; the zone plays no part.</li>
 *   <li>Fire times before {@code startAt} or after {@code endAt} do not exist.</li>
 * </ul>
 * Pure and deterministic: every node computes the same fire times and the same jitter.
 */
public final class ScheduleCalendar {

    /** cron-utils' Unix definition: minute, hour, day of month, month, day of week. */
    private static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    /** The macros Dagy accepts, as the five fields they stand for ({@code @reboot} has no fire time). */
    static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *", "@weekly", "0 0 * * 0",
            "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");

    /** Local times a search for the next fire time looks at, at most (a cron that matches nothing for 1000 years). */
    private static final int MAX_STEPS = 100_000;

    private final ScheduleSpec spec;
    private final ZoneId zone;
    private final ExecutionTime cron;

    private ScheduleCalendar(ScheduleSpec spec) {
        this.spec = spec;
        this.zone = ZoneId.of(spec.timezone());
        this.cron = spec.cron() == null ? null : ExecutionTime.forCron(parse(spec.cron()));
    }

    /** The calendar of a spec that {@link ScheduleRules#validate} accepted. */
    public static ScheduleCalendar of(ScheduleSpec spec) {
        return new ScheduleCalendar(spec);
    }

    /** Parses five fields or a macro; throws {@link IllegalArgumentException} with cron-utils' reason. */
    static Cron parse(String expression) {
        String trimmed = expression.trim();
        String fields = trimmed.startsWith("@") ? MACROS.get(trimmed.toLowerCase(Locale.ROOT)) : trimmed;
        if (fields == null) {
            throw new IllegalArgumentException("unknown macro " + trimmed + "; one of " + MACROS.keySet().stream().sorted().toList());
        }
        return PARSER.parse(fields).validate();
    }

    public ZoneId zone() {
        return zone;
    }

    /** The first fire time strictly after {@code after}, if the spec has one. */
    public Optional<Instant> next(Instant after) {
        Instant from = after;
        if (spec.startAt() != null && spec.startAt().isAfter(after)) {
            from = spec.startAt().minusNanos(1); // the start itself may be a fire time
        }
        Optional<Instant> next = spec.interval() != null ? nextInterval(from) : nextCron(from);
        return next.filter(fire -> spec.endAt() == null || !fire.isAfter(spec.endAt()));
    }

    /** Fire times in {@code [from, to]}, in order, at most {@code max} of them. */
    public List<Instant> between(Instant from, Instant to, int max) {
        List<Instant> fires = new ArrayList<>();
        Optional<Instant> next = next(from.minusNanos(1));
        while (next.isPresent() && !next.get().isAfter(to) && fires.size() < max) {
            fires.add(next.get());
            next = next(next.get());
        }
        return fires;
    }

    /** The next {@code count} fire times after {@code after}. */
    public List<Instant> upcoming(Instant after, int count) {
        List<Instant> fires = new ArrayList<>();
        Optional<Instant> next = next(after);
        while (next.isPresent() && fires.size() < count) {
            fires.add(next.get());
            next = next(next.get());
        }
        return fires;
    }

    /**
     * How long the fire at {@code fireTime} waits after it: below the spec's jitter, the same on every node (a hash of
     * the schedule and the fire time, not a random draw).
     */
    public Duration jitter(ScheduleId schedule, Instant fireTime) {
        long bound = spec.jitter().toMillis();
        if (bound <= 0) {
            return Duration.ZERO;
        }
        byte[] digest = sha256(schedule + "@" + fireTime);
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | (digest[i] & 0xff);
        }
        return Duration.ofMillis(Math.floorMod(value, bound));
    }

    private Optional<Instant> nextInterval(Instant after) {
        long interval = spec.interval().toMillis();
        long offset = spec.offset().toMillis();
        long k = Math.floorDiv(after.toEpochMilli() - offset, interval) + 1;
        return Optional.of(Instant.ofEpochMilli(Math.addExact(Math.multiplyExact(k, interval), offset)));
    }

    private Optional<Instant> nextCron(Instant after) {
        // the wall clock of `after`, as a zoned time on UTC, which has no gaps and no repeated hours
        ZonedDateTime wall = after.atZone(zone).toLocalDateTime().atZone(ZoneOffset.UTC);
        for (int step = 0; step < MAX_STEPS; step++) {
            Optional<ZonedDateTime> local = cron.nextExecution(wall);
            if (local.isEmpty()) {
                return Optional.empty();
            }
            Instant fire = instantOf(local.get().toLocalDateTime());
            if (fire.isAfter(after)) {
                return Optional.of(fire);
            }
            wall = local.get(); // a repeated local time's second occurrence, or a gap mapped to `after` or before
        }
        return Optional.empty();
    }

    /** A local time as an instant: a gap's time at the gap's end, a repeated time at its first occurrence. */
    Instant instantOf(LocalDateTime local) {
        ZoneOffsetTransition transition = zone.getRules().getTransition(local);
        if (transition != null && transition.isGap()) {
            return transition.getInstant();
        }
        return ZonedDateTime.ofLocal(local, zone, null).toInstant(); // the earlier offset of an overlap
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
