package io.dagy.command.schedule;

import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.schedule.ScheduleSpec;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ScheduleRulesTest {

    private static java.util.List<String> fields(ScheduleSpec spec, Map<String, Object> params) {
        return ScheduleRules.validate(spec, params).stream().map(FieldError::field).toList();
    }

    @Test
    void aValidCronSpecHasNoErrors() {
        assertThat(ScheduleRules.validate(ScheduleSpec.cron("30 2 * * *", "Europe/Berlin"), Map.of())).isEmpty();
    }

    @Test
    void everyErrorOfASpecIsListedByField() {
        ScheduleSpec spec = new ScheduleSpec("61 * * * *", null, null, "Mars/Olympus", Instant.parse("2026-02-01T00:00:00Z"),
                Instant.parse("2026-01-01T00:00:00Z"), Duration.ofHours(2), null, Duration.ofSeconds(1));
        assertThat(fields(spec, Map.of("fire_time", "x")))
                .containsExactlyInAnyOrder("cron", "timezone", "end_at", "jitter", "catchup_window", "params.fire_time");
    }

    @Test
    void aSpecNeedsExactlyOneOfCronAndInterval() {
        assertThat(fields(new ScheduleSpec(null, null, null, null, null, null, null, null, null), Map.of()))
                .containsExactly("cron");
        assertThat(fields(new ScheduleSpec("* * * * *", Duration.ofMinutes(5), null, null, null, null, null, null, null),
                Map.of())).containsExactly("interval");
    }

    @Test
    void anIntervalBelowOneMinuteIsRefused() {
        assertThat(fields(ScheduleSpec.every(Duration.ofSeconds(59)), Map.of())).containsExactly("interval");
        assertThat(fields(ScheduleSpec.every(Duration.ofMinutes(1)), Map.of())).isEmpty();
    }

    @Test
    void anUnknownMacroAndSixFieldsAreNotCron() {
        assertThat(fields(ScheduleSpec.cron("@reboot", "UTC"), Map.of())).containsExactly("cron");
        assertThat(fields(ScheduleSpec.cron("0 0 * * * *", "UTC"), Map.of())).containsExactly("cron");
    }

    @Test
    void jitterMustBeShorterThanTheTimeBetweenFires() {
        assertThat(fields(ScheduleSpec.every(Duration.ofMinutes(5)).withJitter(Duration.ofMinutes(5)), Map.of()))
                .containsExactly("jitter");
        assertThat(fields(ScheduleSpec.cron("*/10 * * * *", "UTC").withJitter(Duration.ofMinutes(10)), Map.of()))
                .containsExactly("jitter");
        assertThat(fields(ScheduleSpec.cron("*/10 * * * *", "UTC").withJitter(Duration.ofMinutes(9)), Map.of()))
                .isEmpty();
    }

    @Test
    void anOffsetBelongsToAnIntervalAndIsShorterThanIt() {
        assertThat(fields(new ScheduleSpec(null, Duration.ofMinutes(5), Duration.ofMinutes(5), null, null, null, null,
                null, null), Map.of())).containsExactly("offset");
        assertThat(fields(new ScheduleSpec("* * * * *", null, Duration.ofMinutes(1), null, null, null, null, null, null),
                Map.of())).containsExactly("offset");
    }
}
