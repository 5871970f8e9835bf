package io.dagy.gateway.web;

import io.dagy.gateway.DagyApplication;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests no well-behaved client sends, one cause of a former 500 or HTML page per test: each is refused with a
 * problem that has a stable code (and names the field when one is at fault), and leaves nothing stored.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class HostileRequestsTest {

    private static final String JSON = "application/json";
    private static final String ONE_TASK = "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}}]}";

    @LocalServerPort
    int port;

    @Autowired
    JsonMapper json;

    @Autowired
    EventStorageEngine events;

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    // ------------------------------------------------------------------------------------------------ cursors

    @ParameterizedTest
    @ValueSource(strings = {"-", "QUFBQQ", "bm90LW91cnM", "%2B%2F%3D%3D", "%00"})
    void aRunCursorThatIsNotOursIsRefusedNamingTheCursor(String cursor) throws Exception {
        RawHttp.Response response = get("/v1/runs?cursor=" + cursor);

        assertInvalid(response, "cursor");
    }

    @Test
    void aRunCursorOfFiveThousandCharactersIsRefusedNamingTheCursor() throws Exception {
        assertInvalid(get("/v1/runs?cursor=" + "A".repeat(5_000)), "cursor");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-", "", "QUFBQQ", "etl-daily"})
    void aDeploymentCursorThatIsNotOursIsRefusedNamingTheCursor(String cursor) throws Exception {
        assertInvalid(get("/v1/deployments?cursor=" + cursor), "cursor");
    }

    @Test
    void aDeploymentCursorOfFiveThousandCharactersIsRefusedNamingTheCursor() throws Exception {
        assertInvalid(get("/v1/deployments?cursor=" + "a".repeat(5_000)), "cursor");
    }

    @Test
    void aCursorOfTheDeploymentListingIsRefusedByTheRunListing() throws Exception {
        String deploymentsCursor = io.dagy.query.paging.PageCursor.DEPLOYMENTS.encode("etl-daily");

        assertInvalid(get("/v1/runs?cursor=" + deploymentsCursor), "cursor");
    }

    @Test
    void theNextCursorOfARunPageLeadsToTheNextPage() throws Exception {
        String deployment = publish(ONE_TASK);
        List<String> started = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            started.add(startRun(deployment, "{}"));
        }
        List<String> listed = new ArrayList<>();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).untilAsserted(() -> {
            listed.clear();
            String cursor = null;
            do {
                JsonNode page = json.readTree(get("/v1/runs?deployment=" + deployment + "&limit=1"
                        + (cursor == null ? "" : "&cursor=" + cursor)).body());
                page.get("items").forEach(item -> listed.add(item.get("run_id").asString()));
                cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asString();
            } while (cursor != null);
            assertThat(listed).containsExactlyInAnyOrderElementsOf(started);
        });
    }

    // ------------------------------------------------------------------------------------------------ ids in paths

    @ParameterizedTest
    @ValueSource(strings = {"GET /v1/runs/%20", "GET /v1/runs/%20%20", "POST /v1/runs/%20/cancel", "POST /v1/runs/%20/rerun"})
    void aBlankRunIdIsARunNotFoundProblem(String request) throws Exception {
        String[] parts = request.split(" ");

        assertProblem(send(parts[0], parts[1], List.of(), parts[0].equals("POST") ? "" : null), 404, "run_not_found");
    }

    @Test
    void aRunIdTooLongForAKeyIsARunNotFoundProblem() throws Exception {
        assertProblem(get("/v1/runs/r-" + "a".repeat(3_000)), 404, "run_not_found");
    }

    @Test
    void theErrorPageAskedForDirectlyIsARouteNotFoundProblem() throws Exception {
        assertProblem(get("/error"), 404, "route_not_found");
    }

    // ------------------------------------------------------------------------------------------------ the container

    @ParameterizedTest
    @ValueSource(strings = {"/v1/runs/a%2Fb", "/v1/deployments/a%2Fb", "/v1/runs/a%00b", "/v1/runs/a%5Cb"})
    void aPathTheContainerCannotMapIsAMalformedRequestProblem(String path) throws Exception {
        assertProblem(get(path), 400, "malformed_request");
    }

    @ParameterizedTest
    @ValueSource(ints = {0x01, 0x1B, 0x7F})
    void aControlCharacterInAnIdempotencyKeyIsAMalformedRequestProblem(int character) throws Exception {
        String deployment = publish(ONE_TASK);

        RawHttp.Response response = send("POST", "/v1/deployments/" + deployment + "/runs",
                List.of(Map.entry("Content-Type", JSON), Map.entry("Idempotency-Key", "key" + (char) character)), "{}");

        assertProblem(response, 400, "malformed_request");
        assertThat(runsStartedFor(deployment)).isZero();
    }

    @Test
    void aTransferCodingTheContainerDoesNotImplementIsAMalformedRequestProblem() throws Exception {
        RawHttp.Response response = send("PUT", "/v1/deployments/" + unique("gzip"),
                List.of(Map.entry("Content-Type", JSON), Map.entry("Transfer-Encoding", "gzip")), ONE_TASK);

        assertProblem(response, 400, "malformed_request");
    }

    @Test
    void aConnectRequestIsAMalformedRequestProblem() throws Exception {
        assertProblem(send("CONNECT", "127.0.0.1:80", List.of(), null), 400, "malformed_request");
    }

    @Test
    void headersOfTwentyKilobytesAreAHeadersTooLargeProblem() throws Exception {
        RawHttp.Response response = send("GET", "/v1/runs", List.of(Map.entry("X-Padding", "x".repeat(20_000))), null);

        assertProblem(response, 431, "headers_too_large");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/runs/a%01b", "/v1/runs/%09", "/v1/deployments/a%0Ab", "/v1/runs/a%C2%85b"})
    void aControlCharacterInThePathIsAMalformedRequestProblem(String path) throws Exception {
        assertProblem(get(path), 400, "malformed_request");
    }

    // ------------------------------------------------------------------------------------------------ headers

    @ParameterizedTest
    @ValueSource(ints = {0xE9, 0xA0, 0xFF})
    void anIdempotencyKeyOutsideAsciiIsRefusedNamingTheHeaderAndStartsNoRun(int character) throws Exception {
        String deployment = publish(ONE_TASK);

        RawHttp.Response response = send("POST", "/v1/deployments/" + deployment + "/runs",
                List.of(Map.entry("Content-Type", JSON), Map.entry("Idempotency-Key", "key" + (char) character)), "{}");

        assertInvalid(response, "Idempotency-Key");
        assertThat(runsStartedFor(deployment)).isZero();
    }

    @Test
    void anIdempotencyKeyLongerThan255CharactersIsRefusedNamingTheHeader() throws Exception {
        String deployment = publish(ONE_TASK);

        RawHttp.Response response = send("POST", "/v1/deployments/" + deployment + "/runs",
                List.of(Map.entry("Content-Type", JSON), Map.entry("Idempotency-Key", "k".repeat(256))), "{}");

        assertInvalid(response, "Idempotency-Key");
        assertThat(runsStartedFor(deployment)).isZero();
    }

    @Test
    void twoIdempotencyKeysAreRefusedNamingTheHeader() throws Exception {
        String deployment = publish(ONE_TASK);

        RawHttp.Response response = send("POST", "/v1/deployments/" + deployment + "/runs", List.of(
                Map.entry("Content-Type", JSON), Map.entry("Idempotency-Key", "one"), Map.entry("Idempotency-Key", "two")),
                "{}");

        assertInvalid(response, "Idempotency-Key");
    }

    @Test
    void aKeyOf255PrintableCharactersStartsARun() throws Exception {
        String deployment = publish(ONE_TASK);

        RawHttp.Response response = send("POST", "/v1/deployments/" + deployment + "/runs",
                List.of(Map.entry("Content-Type", JSON), Map.entry("Idempotency-Key", "k ~!".repeat(63) + "xyz")), "{}");

        assertThat(response.status()).as(response.body()).isEqualTo(202);
    }

    @ParameterizedTest
    @ValueSource(strings = {"text/html", "application/xml", "image/png, text/*;q=0.9", "application/json;q=0"})
    void aRequestThatCannotTakeJsonIsANotAcceptableProblem(String accept) throws Exception {
        RawHttp.Response list = send("GET", "/v1/runs", List.of(Map.entry("Accept", accept)), null);
        RawHttp.Response missing = send("GET", "/v1/runs/r-missing", List.of(Map.entry("Accept", accept)), null);

        assertProblem(list, 406, "not_acceptable");
        assertProblem(missing, 406, "not_acceptable");
    }

    @Test
    void aChangeThatCannotBeAnsweredInJsonIsNotMade() throws Exception {
        String name = unique("accept");

        RawHttp.Response response = send("PUT", "/v1/deployments/" + name,
                List.of(Map.entry("Content-Type", JSON), Map.entry("Accept", "text/html")), ONE_TASK);

        assertProblem(response, 406, "not_acceptable");
        assertThat(eventsOf(name)).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"}}}not a media type", "text/html;q=oops", "application/json, */*", "application/*"})
    void anErrorIsAProblemWhateverElseTheAcceptHeaderSays(String accept) throws Exception {
        RawHttp.Response missing = send("GET", "/v1/runs/r-missing", List.of(Map.entry("Accept", accept)), null);
        RawHttp.Response invalid = send("GET", "/v1/runs?limit=0", List.of(Map.entry("Accept", accept)), null);

        assertProblem(missing, 404, "run_not_found");
        assertProblem(invalid, 400, "validation_failed");
    }

    @Test
    void anUnreadableAcceptHeaderCountsAsAbsent() throws Exception {
        RawHttp.Response response = send("GET", "/v1/runs?limit=1", List.of(Map.entry("Accept", "}}}not a media type")), null);

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.contentType()).startsWith(JSON);
    }

    @Test
    void aQueryParameterOfTheWrongTypeIsRefusedNamingIt() throws Exception {
        assertInvalid(get("/v1/runs?limit=many"), "limit");
    }

    // ------------------------------------------------------------------------------------------------ paths

    @Test
    void aSemicolonInADeploymentPathIsRefusedAndStoresNothing() throws Exception {
        String name = unique("semi");

        RawHttp.Response response = put("/v1/deployments/" + name + ";b=c", ONE_TASK);

        assertProblem(response, 400, "malformed_request");
        assertThat(eventsOf(name)).isZero();
    }

    // ------------------------------------------------------------------------------------------------ DAG bodies

    @Test
    void aNullTaskIsRefusedNamingItsIndexAndStoresNothing() throws Exception {
        String name = unique("null-task");

        RawHttp.Response response = put("/v1/deployments/" + name, "{\"tasks\": [null]}");

        assertInvalid(response, "tasks[0]");
        assertThat(eventsOf(name)).isZero();
    }

    @Test
    void aNullParamIsRefusedNamingItAndStoresNothing() throws Exception {
        String name = unique("null-param");

        RawHttp.Response response = put("/v1/deployments/" + name,
                "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}, \"params\": {\"day\": null}}]}");

        assertInvalid(response, "tasks[0].params.day");
        assertThat(eventsOf(name)).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"tasks\": [{\"id\": 1, \"backend\": {\"type\": \"noop\"}}]}|tasks[0].id",
            "{\"description\": 5, \"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}}]}|description",
            "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}, \"retry\": {\"max_attempts\": 2.5}}]}|tasks[0].retry.max_attempts",
            "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}, \"retry\": {\"max_attempts\": \"3\"}}]}|tasks[0].retry.max_attempts",
            "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}, \"retry\": {\"jitter\": \"yes\"}}]}|tasks[0].retry.jitter",
            "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}, \"depends_on\": [3]}]}|tasks[0].depends_on[0]",
            "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}, \"retry\": {\"max_atempts\": 3}}]}|tasks[0].retry.max_atempts"})
    void aFieldOfTheWrongTypeOrNameIsRefusedNamingItAndStoresNothing(String bodyAndField) throws Exception {
        String[] parts = bodyAndField.split("\\|");
        String name = unique("typed");

        RawHttp.Response response = put("/v1/deployments/" + name, parts[0]);

        assertProblem(response, 400, "malformed_request");
        assertThat(fields(response)).containsExactly(parts[1]);
        assertThat(eventsOf(name)).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"tasks\": [], \"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}}]}",
            ONE_TASK + " {}", ONE_TASK + " trailing"})
    void aBodyThatIsNotExactlyOneJsonObjectIsRefusedAndStoresNothing(String body) throws Exception {
        String name = unique("shape");

        RawHttp.Response response = put("/v1/deployments/" + name, body);

        assertProblem(response, 400, "malformed_request");
        assertThat(eventsOf(name)).isZero();
    }

    @Test
    void aNumberInASettingsTagIsRefusedNamingIt() throws Exception {
        String name = publish(ONE_TASK);

        RawHttp.Response response = put("/v1/deployments/" + name + "/settings", "{\"tags\": {\"team\": 7}}");

        assertProblem(response, 400, "malformed_request");
        assertThat(fields(response)).containsExactly("tags.team");
        assertThat(eventsOf(name)).isOne();
    }

    @Test
    void aNullRunParamIsRefusedNamingItAndStartsNoRun() throws Exception {
        String deployment = publish(ONE_TASK);

        RawHttp.Response response = post("/v1/deployments/" + deployment + "/runs", "{\"params\": {\"day\": null}}");

        assertInvalid(response, "params.day");
        assertThat(runsStartedFor(deployment)).isZero();
    }

    @Test
    void aBodyLargerThanTheLimitIsAPayloadTooLargeProblemAndStoresNothing() throws Exception {
        String name = unique("big");
        String padding = " ".repeat((int) RequestFirewall.MAX_BODY_BYTES - ONE_TASK.length() + 1);

        RawHttp.Response response = put("/v1/deployments/" + name, padding + ONE_TASK);

        assertProblem(response, 413, "payload_too_large");
        assertThat(eventsOf(name)).isZero();
    }

    @Test
    void aChunkedBodyLargerThanTheLimitIsAPayloadTooLargeProblemAndStoresNothing() throws Exception {
        String name = unique("chunked");
        String padding = " ".repeat((int) RequestFirewall.MAX_BODY_BYTES);

        RawHttp.Response response = send("PUT", "/v1/deployments/" + name,
                List.of(Map.entry("Content-Type", JSON), Map.entry("Transfer-Encoding", "chunked")),
                RawHttp.chunked("{" + padding + "\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"noop\"}}]}"));

        assertProblem(response, 413, "payload_too_large");
        assertThat(eventsOf(name)).isZero();
    }

    // ------------------------------------------------------------------------------------------------ workers

    @Test
    void aQueueNameOfAMegabyteIsRefusedNamingTheQueue() throws Exception {
        RawHttp.Response response = post("/v1/workers/poll",
                "{\"queue\": \"" + "q".repeat(1_000_000) + "\", \"worker_id\": \"w1\", \"wait_seconds\": 0}");

        assertInvalid(response, "queue");
    }

    @Test
    void aWorkerIdWithSpacesIsRefusedNamingIt() throws Exception {
        assertInvalid(post("/v1/workers/poll", "{\"queue\": \"q\", \"worker_id\": \"  \", \"wait_seconds\": 0}"),
                "worker_id");
    }

    @Test
    void aWorkerQueueInADagThatCannotBeAKeyIsRefusedNamingItAndStoresNothing() throws Exception {
        String name = unique("queue");

        RawHttp.Response response = put("/v1/deployments/" + name,
                "{\"tasks\": [{\"id\": \"a\", \"backend\": {\"type\": \"worker\", \"queue\": \"two words\"}}]}");

        assertInvalid(response, "tasks[0].backend.queue");
        assertThat(eventsOf(name)).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/workers/attempts/%20/t/1/complete", "/v1/workers/attempts/r-1/%20/1/fail",
            "/v1/workers/attempts/r-1/t/0/heartbeat", "/v1/workers/attempts/r-1/t/-1/complete"})
    void anAttemptPathThatCannotNameAnAttemptIsAnAttemptNotFoundProblem(String path) throws Exception {
        assertProblem(post(path, "{\"worker_id\": \"w1\"}"), 404, "attempt_not_found");
    }

    @Test
    void anAttemptPathWithARunIdTooLongForAKeyIsAnAttemptNotFoundProblem() throws Exception {
        assertProblem(post("/v1/workers/attempts/r-" + "a".repeat(3_000) + "/t/1/complete", "{\"worker_id\": \"w1\"}"),
                404, "attempt_not_found");
    }

    @Test
    void aCompletionWhoseOutputDoesNotFitAMessageIsRefusedAndTheAttemptStaysOpen() throws Exception {
        Lease lease = leaseAnAttempt();

        RawHttp.Response refused = post(lease.path() + "/complete",
                "{\"worker_id\": \"w1\", \"output\": {\"rows\": \"" + "r".repeat(300_000) + "\"}}");
        RawHttp.Response completed = post(lease.path() + "/complete", "{\"worker_id\": \"w1\", \"output\": {\"rows\": 7}}");

        assertProblem(refused, 413, "payload_too_large");
        assertThat(completed.status()).isEqualTo(202);
    }

    @Test
    void aFailureWithAnErrorKindOfSpacesIsRefusedNamingIt() throws Exception {
        Lease lease = leaseAnAttempt();

        assertInvalid(post(lease.path() + "/fail", "{\"worker_id\": \"w1\", \"error_kind\": \"out of memory\"}"),
                "error_kind");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** The headers every request carries: none yet; an API key once requests are authenticated. */
    @org.springframework.beans.factory.annotation.Autowired
    org.springframework.context.ApplicationContext context;

    private io.dagy.gateway.support.TestCredentials credentials;

    private Map<String, String> authHeaders(String target) {
        if (credentials == null) {
            credentials = new io.dagy.gateway.support.TestCredentials(context);
        }
        return credentials.headersFor(target);
    }

    private RawHttp.Response send(String method, String target, List<Map.Entry<String, String>> headers, String body)
            throws IOException {
        List<Map.Entry<String, String>> all = new ArrayList<>(authHeaders(target).entrySet());
        all.addAll(headers);
        return new RawHttp(port).send(method, target, all, body);
    }

    private RawHttp.Response get(String target) throws IOException {
        return send("GET", target, List.of(), null);
    }

    private RawHttp.Response put(String target, String body) throws IOException {
        return send("PUT", target, List.of(Map.entry("Content-Type", JSON)), body);
    }

    private RawHttp.Response post(String target, String body) throws IOException {
        return send("POST", target, List.of(Map.entry("Content-Type", JSON)), body);
    }

    private String publish(String dag) throws IOException {
        String name = unique("hostile");
        RawHttp.Response response = put("/v1/deployments/" + name, dag);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return name;
    }

    private String startRun(String deployment, String body) throws IOException {
        RawHttp.Response response = post("/v1/deployments/" + deployment + "/runs", body);
        assertThat(response.status()).as(response.body()).isEqualTo(202);
        return json.readTree(response.body()).get("run_id").asString();
    }

    private record Lease(String runId, String path) {
    }

    private Lease leaseAnAttempt() throws IOException {
        String queue = unique("queue");
        String deployment = publish("{\"tasks\": [{\"id\": \"remote\", \"backend\": {\"type\": \"worker\", \"queue\": \""
                + queue + "\"}}]}");
        String runId = startRun(deployment, "{}");
        RawHttp.Response polled = post("/v1/workers/poll",
                "{\"queue\": \"" + queue + "\", \"worker_id\": \"w1\", \"wait_seconds\": 15}");
        assertThat(polled.status()).as(polled.body()).isEqualTo(200);
        return new Lease(runId, "/v1/workers/attempts/" + runId + "/remote/1");
    }

    /** Events stored for an aggregate (a deployment's name, a run's id), read from the event store itself. */
    /** Events of the default organization's deployment of that name (its aggregate identifier is typed). */
    private long eventsOf(String deployment) {
        return events.readEvents(new io.dagy.contracts.deployment.DeploymentId(io.dagy.contracts.identity.OrgId.DEFAULT,
                new io.dagy.contracts.deployment.DeploymentName(deployment)).toString(), 0).asStream().count();
    }

    /** Runs started of a deployment, from the event store: the read model could lag and hide one. */
    private long runsStartedFor(String deployment) {
        return StoredEvents.runsStarted(events, deployment::equals).size();
    }

    private void assertProblem(RawHttp.Response response, int status, String code) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        assertThat(response.contentType()).startsWith("application/problem+json");
        JsonNode problem = json.readTree(response.body());
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("code").asString()).isEqualTo(code);
        assertThat(problem.get("type").asString()).isEqualTo("urn:dagy:problem:" + code);
    }

    private void assertInvalid(RawHttp.Response response, String field) {
        assertProblem(response, 400, "validation_failed");
        assertThat(fields(response)).contains(field);
    }

    private List<String> fields(RawHttp.Response response) {
        List<String> fields = new ArrayList<>();
        JsonNode errors = json.readTree(response.body()).get("errors");
        if (errors != null) {
            errors.forEach(error -> fields.add(error.get("field").asString()));
        }
        return fields;
    }
}
