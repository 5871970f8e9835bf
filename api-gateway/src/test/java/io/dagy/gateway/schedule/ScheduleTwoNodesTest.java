package io.dagy.gateway.schedule;

import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFired;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import io.dagy.gateway.support.ApiCalls;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import tools.jackson.databind.json.JsonMapper;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Several nodes on one set of tables (two applications on one DynamoDB Local): every fire time of every schedule is
 * fired once and starts one run, whichever node's deadline manager claims it; and a fire planned by a node that
 * stopped is fired by the node that starts next.
 */
class ScheduleTwoNodesTest {

    private static final int SCHEDULES = 50;
    private static final int FIRE_TIMES = 3;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void fiftySchedulesOnTwoNodesFireEachFireTimeExactlyOnce() throws Exception {
        String environment = "sched2-" + UUID.randomUUID().toString().substring(0, 8);
        ShiftedClock clock = new ShiftedClock();
        try (ConfigurableApplicationContext first = start(environment, clock);
             ConfigurableApplicationContext second = start(environment, clock)) {
            String deployment = "every-minute";
            call(first, "PUT", "/v1/deployments/" + deployment,
                    "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}}]}", 200);
            for (int i = 0; i < SCHEDULES; i++) {
                // half created through each node: the nodes share the schedules, whoever created them
                call(i % 2 == 0 ? first : second, "POST", "/v1/deployments/" + deployment + "/schedules",
                        "{\"interval\": \"PT1M\", \"overlap\": \"allow_all\", \"jitter\": \"PT20S\"}", 201);
            }

            for (int round = 0; round < FIRE_TIMES; round++) {
                clock.skip(Duration.ofMinutes(1));
                int expected = SCHEDULES * (round + 1);
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> all(first, ScheduleFired.class).size() >= expected);
            }
            // the clock also runs on in real time, so a minute boundary may add a fire time: stop the schedules first
            String ids = call(first, "GET", "/v1/deployments/" + deployment + "/schedules", null, 200);
            JSON.readTree(ids).get("items").forEach(item -> pause(first, deployment, item.get("schedule_id").asString()));
            List<ScheduleFired> fired = all(first, ScheduleFired.class);
            int fires = fired.size();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> all(first, RunStarted.class).size() >= fires);

            Map<String, Long> perFireTime = fired.stream().collect(Collectors.groupingBy(
                    fire -> fire.scheduleId() + "@" + fire.fireTime(), Collectors.counting()));
            assertThat(perFireTime).hasSizeGreaterThanOrEqualTo(SCHEDULES * FIRE_TIMES).hasSize(fires);
            assertThat(perFireTime.values()).allMatch(count -> count == 1);
            Map<String, Long> perSchedule = fired.stream().collect(Collectors.groupingBy(
                    fire -> fire.scheduleId().toString(), Collectors.counting()));
            assertThat(perSchedule).hasSize(SCHEDULES);
            List<RunStarted> runs = all(second, RunStarted.class);
            assertThat(runs).hasSize(fires);
            assertThat(runs.stream().map(run -> run.runId().value()).distinct()).hasSize(fires);
            assertThat(runs.stream().map(RunStarted::runId).collect(Collectors.toSet()))
                    .isEqualTo(fired.stream().map(ScheduleFired::runId).collect(Collectors.toSet()));
        }
    }

    @Test
    void aFirePlannedBeforeARestartIsFiredAfterIt() throws Exception {
        String environment = "sched-restart-" + UUID.randomUUID().toString().substring(0, 8);
        ShiftedClock clock = new ShiftedClock();
        String deployment = "after-restart";
        try (ConfigurableApplicationContext node = start(environment, clock)) {
            call(node, "PUT", "/v1/deployments/" + deployment,
                    "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}}]}", 200);
            call(node, "POST", "/v1/deployments/" + deployment + "/schedules", "{\"interval\": \"PT1M\"}", 201);
        }
        clock.skip(Duration.ofSeconds(61)); // the fire comes due while no node runs
        try (ConfigurableApplicationContext node = start(environment, clock)) {
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> all(node, RunStarted.class).size() == 1);
            assertThat(all(node, ScheduleFired.class)).hasSize(1);
        }
    }

    private static void pause(ConfigurableApplicationContext node, String deployment, String id) {
        try {
            call(node, "POST", "/v1/deployments/" + deployment + "/schedules/" + id + "/pause", null, 200);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static ConfigurableApplicationContext start(String environment, ShiftedClock clock) {
        return new SpringApplicationBuilder(DagyApplication.class).profiles("local", "test")
                .initializers(context -> context.getBeanFactory().registerSingleton("shiftedClock", clock))
                .run("--dagy.environment=" + environment);
    }

    private static String call(ConfigurableApplicationContext node, String method, String path, String body, int status)
            throws Exception {
        String port = node.getBean(Environment.class).getProperty("local.server.port");
        HttpResponse<String> response = ApiCalls.send(Integer.parseInt(port), node.getBean(LocalOwnerKey.class).key(),
                method, path, body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        return response.body();
    }

    private static <T> List<T> all(ConfigurableApplicationContext node, Class<T> type) {
        try (var stream = node.getBean(EventStorageEngine.class).readEvents(null, false)) {
            return stream.filter(event -> event.getPayloadType() == type).map(TrackedEventMessage::getPayload)
                    .map(type::cast).toList();
        }
    }

}
