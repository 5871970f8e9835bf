package io.dagy.command.schedule;

import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.schedule.ScheduleId;
import io.dagy.contracts.schedule.ScheduleSpec;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class ScheduleCalendarTest {

    private static final ScheduleId SCHEDULE = new ScheduleId(new OrgId("acme"), new DeploymentName("etl"), "s-1");

    private static List<Instant> fires(ScheduleSpec spec, String after, int count) {
        return ScheduleCalendar.of(spec).upcoming(Instant.parse(after), count);
    }

    private static List<Instant> instants(String... values) {
        return java.util.Arrays.stream(values).map(Instant::parse).toList();
    }

    @Test
    void aBerlinTimeThatDoesNotExistOnTheSpringForwardDayFiresOnceWhenTheGapEnds() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist; 03:00 CEST is 01:00 UTC
        assertThat(fires(ScheduleSpec.cron("30 2 * * *", "Europe/Berlin"), "2026-03-28T00:00:00Z", 3))
                .isEqualTo(instants("2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"));
    }

    @Test
    void aBerlinTimeThatOccursTwiceOnTheFallBackDayFiresOnceAtItsFirstOccurrence() {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 is 00:30 UTC (CEST) and 01:30 UTC (CET)
        assertThat(fires(ScheduleSpec.cron("30 2 * * *", "Europe/Berlin"), "2026-10-24T00:00:00Z", 3))
                .isEqualTo(instants("2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"));
    }

    @Test
    void aSearchFromInsideTheRepeatedHourDoesNotFireItsSecondOccurrence() {
        assertThat(fires(ScheduleSpec.cron("30 2 * * *", "Europe/Berlin"), "2026-10-25T01:10:00Z", 1))
                .isEqualTo(instants("2026-10-26T01:30:00Z"));
    }

    @Test
    void aNewYorkTimeInTheSpringForwardGapFiresOnceAtThreeInTheMorning() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC)
        assertThat(fires(ScheduleSpec.cron("30 2 * * *", "America/New_York"), "2026-03-07T00:00:00Z", 3))
                .isEqualTo(instants("2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"));
    }

    @Test
    void aNewYorkTimeThatOccursTwiceOnTheFallBackDayFiresOnce() {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 is 05:30 UTC (EDT) and 06:30 UTC (EST)
        assertThat(fires(ScheduleSpec.cron("30 1 * * *", "America/New_York"), "2026-10-31T12:00:00Z", 3))
                .isEqualTo(instants("2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"));
    }

    @Test
    void anHourlyNewYorkScheduleFiresTheRepeatedHourOnce() {
        assertThat(fires(ScheduleSpec.cron("0 * * * *", "America/New_York"), "2026-11-01T03:30:00Z", 4))
                .isEqualTo(instants("2026-11-01T04:00:00Z", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z",
                        "2026-11-01T08:00:00Z"));
    }

    @Test
    void everyMinuteOfTheSpringForwardGapFiresOnceAtItsEnd() {
        assertThat(fires(ScheduleSpec.cron("* * * * *", "Europe/Berlin"), "2026-03-29T00:58:30Z", 4))
                .isEqualTo(instants("2026-03-29T00:59:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:01:00Z",
                        "2026-03-29T01:02:00Z"));
    }

    @Test
    void macrosStandForTheirFiveFields() {
        assertThat(fires(ScheduleSpec.cron("@hourly", "UTC"), "2026-01-01T10:20:00Z", 2))
                .isEqualTo(instants("2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z"));
        assertThat(fires(ScheduleSpec.cron("@daily", "Europe/Berlin"), "2026-07-01T10:20:00Z", 1))
                .isEqualTo(instants("2026-07-01T22:00:00Z"));
    }

    @Test
    void anIntervalFiresAtItsOffsetFromTheEpochWhateverTheZone() {
        ScheduleSpec spec = new ScheduleSpec(null, Duration.ofMinutes(15), Duration.ofMinutes(5), "Europe/Berlin",
                null, null, null, null, null);
        assertThat(fires(spec, "2026-03-29T00:58:00Z", 3))
                .isEqualTo(instants("2026-03-29T01:05:00Z", "2026-03-29T01:20:00Z", "2026-03-29T01:35:00Z"));
    }

    @Test
    void fireTimesStayWithinTheStartAndEndBoundsBothInclusive() {
        ScheduleSpec spec = ScheduleSpec.cron("0 * * * *", "UTC")
                .withBounds(Instant.parse("2026-01-01T10:00:00Z"), Instant.parse("2026-01-01T12:00:00Z"));
        assertThat(fires(spec, "2025-12-31T00:00:00Z", 10))
                .isEqualTo(instants("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z"));
    }

    @Test
    void betweenListsTheFireTimesOfARangeBothEndsIncluded() {
        assertThat(ScheduleCalendar.of(ScheduleSpec.cron("0 0 * * *", "UTC"))
                .between(Instant.parse("2026-01-01T00:00:00Z"), Instant.parse("2026-01-03T00:00:00Z"), 100))
                .isEqualTo(instants("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"));
    }

    @Test
    void jitterIsTheSameOnEveryComputationAndBelowItsBound() {
        ScheduleSpec spec = ScheduleSpec.every(Duration.ofMinutes(5)).withJitter(Duration.ofSeconds(30));
        Instant fire = Instant.parse("2026-01-01T10:00:00Z");
        Duration first = ScheduleCalendar.of(spec).jitter(SCHEDULE, fire);
        assertThat(ScheduleCalendar.of(spec).jitter(SCHEDULE, fire)).isEqualTo(first);
        List<Duration> spread = IntStream.range(0, 100)
                .mapToObj(i -> ScheduleCalendar.of(spec).jitter(SCHEDULE, fire.plus(Duration.ofMinutes(5L * i)))).toList();
        assertThat(spread).allSatisfy(jitter -> assertThat(jitter).isBetween(Duration.ZERO, Duration.ofMillis(29_999)));
        assertThat(spread.stream().distinct().count()).isGreaterThan(50);
    }

    @Test
    void noJitterDelaysNothing() {
        assertThat(ScheduleCalendar.of(ScheduleSpec.every(Duration.ofMinutes(5)))
                .jitter(SCHEDULE, Instant.parse("2026-01-01T10:00:00Z"))).isZero();
    }
}
