package io.dagy.gateway.schedule;

import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import io.dagy.gateway.support.TestOrganizations;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static io.dagy.gateway.support.ApiCalls.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Schedules end to end on the local stack: the API, the aggregate, its deadlines in DynamoDB, the saga that starts the
 * runs. Time is moved on by a {@link ShiftedClock}: no test waits for a real minute.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        // schedules are snapshotted every few events here, so their snapshots are written and read back throughout
        properties = "dagy.event-store.snapshot-threshold=5")
@ActiveProfiles({"local", "test"})
@Import(ScheduleApiTest.Clocks.class)
class ScheduleApiTest {

    @TestConfiguration(proxyBeanMethods = false)
    static class Clocks {
        @Bean
        ShiftedClock shiftedClock() {
            return new ShiftedClock();
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    LocalOwnerKey ownerKey;

    @Autowired
    ShiftedClock clock;

    @Autowired
    EventStore eventStore;

    @Autowired
    JsonMapper json;

    @Autowired
    ApplicationContext context;

    private HttpResponse<String> call(String method, String path, String body) throws Exception {
        return io.dagy.gateway.support.ApiCalls.send(port, ownerKey.key(), method, path, body);
    }

    private JsonNode ok(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        return json.readTree(response.body());
    }

    private String deploy(String dag) throws Exception {
        String name = "sched-" + UUID.randomUUID().toString().substring(0, 8);
        ok(call("PUT", "/v1/deployments/" + name, dag), 200);
        return name;
    }

    private String deployNoop() throws Exception {
        return deploy("{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}}]}");
    }

    /** A task that waits for an external worker nobody runs: its run runs until it is cancelled. */
    private String deployWaiting() throws Exception {
        return deploy("{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"worker\", \"queue\": \"nobody-"
                + UUID.randomUUID().toString().substring(0, 8) + "\"}}]}");
    }

    private JsonNode create(String deployment, String body) throws Exception {
        return ok(call("POST", "/v1/deployments/" + deployment + "/schedules", body), 201);
    }

    private JsonNode read(String deployment, String scheduleId) throws Exception {
        return ok(call("GET", "/v1/deployments/" + deployment + "/schedules/" + scheduleId, null), 200);
    }

    private List<String> runsOf(String deployment) throws Exception {
        JsonNode page = ok(call("GET", "/v1/runs?deployment=" + deployment + "&limit=100", null), 200);
        List<String> ids = new ArrayList<>();
        page.get("items").forEach(item -> ids.add(item.get("run_id").asString()));
        return ids;
    }

    private DomainEventMessage<?> runStarted(String runId) {
        return eventStore.readEvents(runId).asStream().findFirst().orElseThrow();
    }

    @Test
    void aNewScheduleAnswersWithItsIdAndItsNextTenFireTimesInItsZone() throws Exception {
        String deployment = deployNoop();
        JsonNode created = create(deployment, """
                {"cron": "30 2 * * *", "timezone": "Europe/Berlin", "params": {"region": "eu"}}""");
        String id = created.get("schedule_id").asString();
        assertThat(id).startsWith("s-");

        JsonNode schedule = read(deployment, id);
        assertThat(schedule.get("state").asString()).isEqualTo("active");
        assertThat(schedule.get("overlap").asString()).isEqualTo("skip");
        assertThat(schedule.get("catchup_window").asString()).isEqualTo("PT1H");
        assertThat(schedule.get("next_fire_times")).hasSize(10);
        schedule.get("next_fire_times").forEach(fire -> assertThat(fire.asString()).matches(
                "\\d{4}-\\d\\d-\\d\\dT0[23]:[03]0:00\\+0[12]:00"));
        assertThat(schedule.get("params").get("region").asString()).isEqualTo("eu");
    }

    @Test
    void aBadSpecIsOneProblemListingEveryError() throws Exception {
        String deployment = deployNoop();
        HttpResponse<String> response = call("POST", "/v1/deployments/" + deployment + "/schedules", """
                {"cron": "61 * * * *", "timezone": "Mars/Olympus_Mons", "start_at": "2026-06-01T00:00:00Z",
                 "end_at": "2026-05-01T00:00:00Z", "jitter": "PT2H", "overlap": "sometimes"}""");
        assertProblem(response, 400, "validation_failed");
        List<String> fields = new ArrayList<>();
        json.readTree(response.body()).get("errors").forEach(error -> fields.add(error.get("field").asString()));
        assertThat(fields).containsExactlyInAnyOrder("cron", "timezone", "end_at", "jitter", "overlap");
    }

    @Test
    void anIntervalBelowOneMinuteIsRefused() throws Exception {
        HttpResponse<String> response = call("POST", "/v1/deployments/" + deployNoop() + "/schedules",
                "{\"interval\": \"PT30S\"}");
        assertProblem(response, 400, "validation_failed");
        assertThat(response.body()).contains("\"field\":\"interval\"");
    }

    @Test
    void aScheduleOfAnotherOrganizationIsNotFound() throws Exception {
        String deployment = deployNoop();
        String id = create(deployment, "{\"interval\": \"PT1H\"}").get("schedule_id").asString();
        OrgId other = new OrgId("sched-" + UUID.randomUUID().toString().substring(0, 8));
        String key = new TestOrganizations(context).key(other, Role.OWNER);
        String path = "/v1/deployments/" + deployment + "/schedules/" + id;

        assertProblem(io.dagy.gateway.support.ApiCalls.send(port, key, "GET", path, null), 404, "schedule_not_found");
        assertProblem(io.dagy.gateway.support.ApiCalls.send(port, key, "POST", path + "/pause", "{\"note\": \"x\"}"), 404,
                "schedule_not_found");
        assertProblem(io.dagy.gateway.support.ApiCalls.send(port, key, "DELETE", path, null), 404, "schedule_not_found");
        assertProblem(io.dagy.gateway.support.ApiCalls.send(port, key, "POST", "/v1/deployments/" + deployment
                + "/schedules", "{\"interval\": \"PT1H\"}"), 404, "deployment_not_found");
        assertThat(read(deployment, id).get("state").asString()).isEqualTo("active");
        JsonNode theirs = json.readTree(io.dagy.gateway.support.ApiCalls.send(port, key, "GET", "/v1/deployments/"
                + deployment + "/schedules", null).body());
        assertThat(theirs.get("items")).isEmpty();
    }

    @Test
    void theListingShowsADeploymentsSchedulesWithTheirState() throws Exception {
        String deployment = deployNoop();
        String hourly = create(deployment, "{\"cron\": \"@hourly\"}").get("schedule_id").asString();
        String daily = create(deployment, "{\"interval\": \"P1D\", \"offset\": \"PT6H\"}").get("schedule_id").asString();
        ok(call("POST", "/v1/deployments/" + deployment + "/schedules/" + daily + "/pause", "{\"note\": \"holiday\"}"), 200);
        ok(call("DELETE", "/v1/deployments/" + deployment + "/schedules/" + hourly, null), 204);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode items = ok(call("GET", "/v1/deployments/" + deployment + "/schedules", null), 200).get("items");
            assertThat(items).hasSize(1);
            assertThat(items.get(0).get("schedule_id").asString()).isEqualTo(daily);
            assertThat(items.get(0).get("state").asString()).isEqualTo("paused");
            assertThat(items.get(0).get("note").asString()).isEqualTo("holiday");
            assertThat(items.get(0).get("interval").asString()).isEqualTo("PT24H");
        });
        assertProblem(call("GET", "/v1/deployments/" + deployment + "/schedules/" + hourly, null), 404,
                "schedule_not_found");
    }

    @Test
    void pausingKeepsItsNoteAndStopsTheFiresUntilUnpaused() throws Exception {
        String deployment = deployNoop();
        String id = create(deployment, "{\"interval\": \"PT1M\"}").get("schedule_id").asString();
        String path = "/v1/deployments/" + deployment + "/schedules/" + id;

        JsonNode paused = ok(call("POST", path + "/pause", "{\"note\": \"database maintenance\"}"), 200);
        assertThat(paused.get("state").asString()).isEqualTo("paused");
        assertThat(paused.get("note").asString()).isEqualTo("database maintenance");
        assertThat(paused.get("next_fire_times")).isEmpty();

        clock.skip(Duration.ofMinutes(3));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(runsOf(deployment)).isEmpty());

        JsonNode unpaused = ok(call("POST", path + "/unpause", null), 200);
        assertThat(unpaused.get("state").asString()).isEqualTo("active");
        assertThat(unpaused.get("next_fire_times")).hasSize(10);
        clock.skip(Duration.ofMinutes(1));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(runsOf(deployment)).hasSize(1));
        call("DELETE", path, null);
    }

    @Test
    void aFireStartsARunAsTheScheduleWithItsFireTimeAsAParam() throws Exception {
        String deployment = deployNoop();
        String id = create(deployment, "{\"interval\": \"PT1M\", \"params\": {\"region\": \"eu\"}}").get("schedule_id").asString();
        Instant firstFire = Instant.parse(read(deployment, id).get("next_fire_times").get(0).asString());

        clock.skip(Duration.ofSeconds(61));

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(runsOf(deployment)).isNotEmpty());
        ok(call("POST", "/v1/deployments/" + deployment + "/schedules/" + id + "/pause", null), 200);
        DomainEventMessage<?> started = runStarted(runsOf(deployment).get(runsOf(deployment).size() - 1));
        RunStarted run = (RunStarted) started.getPayload();
        assertThat(run.params()).containsEntry("region", "eu").containsEntry("schedule_id", id)
                .containsEntry("fire_time", firstFire.toString());
        assertThat(started.getMetaData()).containsEntry(MessageKeys.ACTOR_KIND, "schedule")
                .containsEntry(MessageKeys.ACTOR_ID, deployment + "/" + id)
                .containsEntry(MessageKeys.ORG_ID, "default");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(read(deployment, id).get("last_fire_time").asString()).isNotNull());
    }

    @Test
    void skipSkipsAFireWhileTheScheduledRunStillRunsAndFiresAgainOnceItEnded() throws Exception {
        String deployment = deployWaiting();
        String id = create(deployment, "{\"interval\": \"PT1M\"}").get("schedule_id").asString();
        String path = "/v1/deployments/" + deployment + "/schedules/" + id;

        clock.skip(Duration.ofSeconds(61));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(runsOf(deployment)).hasSize(1));
        String first = runsOf(deployment).get(0);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(read(deployment, id).get("running_runs").get(0).asString()).isEqualTo(first));

        clock.skip(Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(read(deployment, id).get("counters").get("skipped").asInt()).isEqualTo(1));
        assertThat(runsOf(deployment)).containsExactly(first);

        ok(call("POST", "/v1/runs/" + first + "/cancel", null), 202);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(read(deployment, id).get("running_runs")).isEmpty());
        JsonNode triggered = ok(call("POST", path + "/trigger", null), 202);
        assertThat(triggered.get("outcome").asString()).isEqualTo("started");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(runsOf(deployment)).hasSize(2));
        call("DELETE", path, null);
    }

    @Test
    void cancelOtherCancelsTheRunningRunAndStartsTheFireOnceItHasEnded() throws Exception {
        String deployment = deployWaiting();
        String id = create(deployment, "{\"interval\": \"PT1M\", \"overlap\": \"cancel_other\"}").get("schedule_id").asString();

        clock.skip(Duration.ofSeconds(61));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(runsOf(deployment)).hasSize(1));
        String first = runsOf(deployment).get(0);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(read(deployment, id).get("running_runs")).hasSize(1));

        clock.skip(Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(runsOf(deployment)).hasSize(2));
        ok(call("POST", "/v1/deployments/" + deployment + "/schedules/" + id + "/pause", null), 200);
        JsonNode cancelled = ok(call("GET", "/v1/runs/" + first, null), 200);
        assertThat(cancelled.get("status").asString()).isEqualTo("CANCELLED");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode schedule = read(deployment, id);
            assertThat(schedule.get("running_runs")).hasSize(1);
            assertThat(schedule.get("running_runs").get(0).asString()).isNotEqualTo(first);
        });
        call("DELETE", "/v1/deployments/" + deployment + "/schedules/" + id, null);
    }

    @Test
    void afterDowntimeTheFiresWithinTheCatchUpWindowRunAndOlderOnesAreCountedAsMissed() throws Exception {
        String deployment = deployNoop();
        String id = create(deployment, """
                {"interval": "PT1H", "overlap": "allow_all", "catchup_window": "PT2H"}""").get("schedule_id").asString();

        clock.skip(Duration.ofHours(5)); // five fire times pass while "nothing runs"

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            JsonNode counters = read(deployment, id).get("counters");
            assertThat(counters.get("missed").asInt()).isEqualTo(3);
            assertThat(counters.get("fired").asInt()).isEqualTo(2);
        });
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(runsOf(deployment)).hasSize(2));
        call("DELETE", "/v1/deployments/" + deployment + "/schedules/" + id, null);
    }

    @Test
    void aBackfillStartsExactlyTheRunsOfItsRangeEachWithItsFireTime() throws Exception {
        String deployment = deployNoop();
        String id = create(deployment, "{\"cron\": \"0 0 * * *\", \"timezone\": \"Europe/Berlin\"}")
                .get("schedule_id").asString();
        String path = "/v1/deployments/" + deployment + "/schedules/" + id;
        ok(call("POST", path + "/pause", "{\"note\": \"only the backfill\"}"), 200);

        JsonNode backfill = ok(call("POST", path + "/backfill", """
                {"from": "2026-03-20T00:00:00+01:00", "to": "2026-04-02T00:00:00+02:00"}"""), 202);
        assertThat(backfill.get("fire_times").asInt()).isEqualTo(14);

        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(runsOf(deployment)).hasSize(14));
        List<String> fireTimes = runsOf(deployment).stream()
                .map(run -> (String) ((RunStarted) runStarted(run).getPayload()).params().get("fire_time")).sorted().toList();
        assertThat(fireTimes).first().isEqualTo("2026-03-20T00:00:00+01:00");
        assertThat(fireTimes).contains("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00")
                .last().isEqualTo("2026-04-02T00:00:00+02:00");
        assertThat(fireTimes).doesNotHaveDuplicates();
    }

    @Test
    void theSettingsScheduleIsAShorthandForTheScheduleNamedSettings() throws Exception {
        String deployment = deployNoop();
        JsonNode settings = ok(call("PUT", "/v1/deployments/" + deployment + "/settings",
                "{\"schedule\": \"0 9 * * 1-5\"}"), 200);
        assertThat(settings.get("schedule").asString()).isEqualTo("0 9 * * 1-5");
        JsonNode schedule = read(deployment, "settings");
        assertThat(schedule.get("cron").asString()).isEqualTo("0 9 * * 1-5");
        assertThat(schedule.get("timezone").asString()).isEqualTo("UTC");

        assertProblem(call("PUT", "/v1/deployments/" + deployment + "/settings", "{\"schedule\": \"every day\"}"), 400,
                "validation_failed");
        ok(call("PUT", "/v1/deployments/" + deployment + "/settings", "{\"schedule\": \"\"}"), 200);
        assertProblem(call("GET", "/v1/deployments/" + deployment + "/schedules/settings", null), 404,
                "schedule_not_found");
    }
}
