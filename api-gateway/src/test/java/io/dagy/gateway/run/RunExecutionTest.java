package io.dagy.gateway.run;

import io.dagy.gateway.security.LocalOwnerKey;
import io.dagy.gateway.support.ApiCalls;

import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.TriggerRule;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.QueueTasks;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Runs end to end on the local stack: REST, aggregates, sagas, backends, SQS reports, the run view. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class RunExecutionTest {

    @Autowired
    LocalOwnerKey ownerKey;

    @LocalServerPort
    int port;

    @Autowired
    JsonMapper json;

    @Autowired
    EventStorageEngine storageEngine;

    @Autowired
    CommandGateway commands;

    @Autowired
    S3Client s3;

    @Autowired
    SqsClient sqs;

    @Autowired
    DagyResources resources;

    private final HttpClient http = HttpClient.newHttpClient();

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void aDiamondOfNoopTasksSucceeds() throws Exception {
        String deployment = deploy("""
                {"tasks": [
                  {"id": "extract", "backend": {"type": "noop"}},
                  {"id": "left", "backend": {"type": "noop"}, "depends_on": ["extract"]},
                  {"id": "right", "backend": {"type": "noop"}, "depends_on": ["extract"]},
                  {"id": "load", "backend": {"type": "noop"}, "depends_on": ["left", "right"]}
                ]}""");

        JsonNode run = awaitFinished(startRun(deployment));

        assertThat(run.get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(run.get("version").asInt()).isEqualTo(1);
        run.get("tasks").forEach(task -> {
            assertThat(task.get("status").asString()).isEqualTo("SUCCEEDED");
            assertThat(task.get("attempts")).hasSize(1);
        });
    }

    /** A fan-out is queued over parallel lanes and its events handled in batches: every task still runs once. */
    @Test
    void aFanOutOfAHundredTwentyTasksAndTheirJoinEachRunExactlyOnce() throws Exception {
        StringBuilder dag = new StringBuilder("{\"tasks\": [{\"id\": \"root\", \"backend\": {\"type\": \"noop\"}}");
        StringBuilder middle = new StringBuilder();
        for (int i = 0; i < 120; i++) {
            dag.append(", {\"id\": \"p").append(i).append("\", \"backend\": {\"type\": \"noop\"}, \"depends_on\": [\"root\"]}");
            middle.append(i == 0 ? "" : ", ").append("\"p").append(i).append('"');
        }
        dag.append(", {\"id\": \"join\", \"backend\": {\"type\": \"noop\"}, \"depends_on\": [").append(middle).append("]}]}");
        String deployment = deploy(dag.toString());

        JsonNode run = awaitFinished(startRun(deployment));

        assertThat(run.get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(run.get("tasks")).hasSize(100); // the first page; the rest through /tasks
        assertThat(run.at("/task_counts/succeeded").asInt()).isEqualTo(122);
        List<JsonNode> tasks = new java.util.ArrayList<>();
        run.get("tasks").forEach(tasks::add);
        String cursor = text(run.path("tasks_next_cursor"));
        while (cursor != null) {
            JsonNode page = json.readTree(get("/v1/runs/" + run.get("run_id").asString() + "/tasks?cursor=" + cursor).body());
            page.get("items").forEach(tasks::add);
            cursor = text(page.path("next_cursor"));
        }
        assertThat(tasks).hasSize(122);
        tasks.forEach(task -> {
            assertThat(task.get("status").asString()).as(task.get("task_id").asString()).isEqualTo("SUCCEEDED");
            assertThat(task.get("attempts")).hasSize(1);
        });
    }

    /**
     * A batch of new tasks (how the orchestration queues a large fan-out) of which one task run exists already, as when
     * its event is handled again, is refused whole: the store writes none of it, so the orchestration can queue the
     * batch task by task without a task running twice.
     */
    @Test
    void aBatchOfNewTasksWithATaskRunThatExistsIsRefusedWhole() throws Exception {
        String deployment = deploy("""
                {"tasks": [{"id": "a", "backend": {"type": "noop"}}]}""");
        String runId = startRun(deployment);
        assertThat(awaitFinished(runId).get("status").asString()).isEqualTo("SUCCEEDED");
        long eventsOfA = storageEngine.readEvents(runId + "/a").asStream().count();
        Dag.Task again = new Dag.Task("a", new Dag.Backend(BackendType.NOOP, Map.of()), List.of(), TriggerRule.ALL_SUCCESS,
                Dag.RetryPolicy.none(), new Dag.Timeouts(null, null, null), Map.of());
        Dag.Task fresh = new Dag.Task("fresh", again.backend(), List.of(), TriggerRule.ALL_SUCCESS, Dag.RetryPolicy.none(),
                again.timeouts(), Map.of());

        assertThatThrownBy(() -> commands.sendAndWait(GenericCommandMessage.asCommandMessage(
                new QueueTasks(new RunId(runId), List.of(fresh, again), Map.of()))
                .andMetaData(Map.of(MessageKeys.ORG_ID, OrgId.DEFAULT.value()))))
                .isInstanceOf(AggregateStreamCreationException.class);

        assertThat(storageEngine.readEvents(runId + "/fresh").asStream()).isEmpty();
        assertThat(storageEngine.readEvents(runId + "/a").asStream().count()).isEqualTo(eventsOfA);
    }

    @Test
    void aFailingTaskMakesItsDownstreamUpstreamFailedAndTheRunFailed() throws Exception {
        String deployment = deploy("""
                {"tasks": [
                  {"id": "extract", "backend": {"type": "local", "command": ["sh", "-c", "echo broken >&2; exit 3"]}},
                  {"id": "load", "backend": {"type": "noop"}, "depends_on": ["extract"]}
                ]}""");

        JsonNode run = awaitFinished(startRun(deployment));

        assertThat(run.get("status").asString()).isEqualTo("FAILED");
        JsonNode extract = run.get("tasks").get(0);
        assertThat(extract.get("status").asString()).isEqualTo("FAILED");
        assertThat(extract.at("/attempts/0/error_kind").asString()).isEqualTo("exit_3");
        assertThat(run.get("tasks").get(1).get("status").asString()).isEqualTo("UPSTREAM_FAILED");
        String stderr = s3.getObjectAsBytes(b -> b.bucket(resources.artifactBucket())
                .key("runs/" + run.get("run_id").asString() + "/extract/1/stderr.log")).asUtf8String();
        assertThat(stderr).contains("broken");
    }

    @Test
    void aTaskThatFailsOnceSucceedsOnItsRetryAfterTheBackoff() throws Exception {
        String deployment = deploy("""
                {"tasks": [
                  {"id": "flaky", "backend": {"type": "local", "command": ["sh", "-c", "test \\"$DAGY_ATTEMPT\\" -ge 2"]},
                   "retry": {"max_attempts": 3, "initial_interval": "PT0.3S", "jitter": false}}
                ]}""");

        JsonNode run = awaitFinished(startRun(deployment));

        assertThat(run.get("status").asString()).isEqualTo("SUCCEEDED");
        JsonNode attempts = run.at("/tasks/0/attempts");
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0).get("status").asString()).isEqualTo("FAILED");
        assertThat(attempts.get(1).get("status").asString()).isEqualTo("SUCCEEDED");
        Duration backoff = Duration.between(java.time.Instant.parse(attempts.get(0).get("ended_at").asString()),
                java.time.Instant.parse(attempts.get(1).get("dispatched_at").asString()));
        assertThat(backoff).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }

    @Test
    void aStartToCloseTimeoutKillsTheSubprocessAndTimesTheTaskOut() throws Exception {
        Path pidFile = Files.createTempFile("dagy-timeout", ".pid");
        String deployment = deploy("""
                {"tasks": [
                  {"id": "slow", "backend": {"type": "local", "command": ["sh", "-c", "echo $$ > %s; exec sleep 60"]},
                   "timeouts": {"start_to_close": "PT1S"}}
                ]}""".formatted(pidFile));

        JsonNode run = awaitFinished(startRun(deployment));

        assertThat(run.get("status").asString()).isEqualTo("FAILED");
        assertThat(run.at("/tasks/0/status").asString()).isEqualTo("TIMED_OUT");
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void cancellingMidRunKillsTheRunningAttemptAndCancelsWhatFollows() throws Exception {
        Path pidFile = Files.createTempFile("dagy-cancel", ".pid");
        String deployment = deploy("""
                {"tasks": [
                  {"id": "slow", "backend": {"type": "local", "command": ["sh", "-c", "echo $$ > %s; exec sleep 60"]}},
                  {"id": "after", "backend": {"type": "noop"}, "depends_on": ["slow"]}
                ]}""".formatted(pidFile));
        String runId = startRun(deployment);
        await().atMost(Duration.ofSeconds(30)).until(() ->
                "RUNNING".equals(json.readTree(get("/v1/runs/" + runId).body()).at("/tasks/0/status").asString()));

        HttpResponse<String> cancel = post("/v1/runs/" + runId + "/cancel", "", null);
        JsonNode run = awaitFinished(runId);

        assertThat(cancel.statusCode()).isEqualTo(202);
        assertThat(run.get("status").asString()).isEqualTo("CANCELLED");
        assertThat(run.at("/tasks/0/status").asString()).isEqualTo("CANCELLED");
        assertThat(run.at("/tasks/1/status").asString()).isEqualTo("CANCELLED");
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
        assertThat(post("/v1/runs/" + runId + "/cancel", "", null).statusCode()).isEqualTo(202);
        assertThat(post("/v1/runs/r-missing/cancel", "", null).statusCode()).isEqualTo(404);
    }

    @Test
    void anExternalWorkerPollsAnAttemptHeartbeatsAndCompletesIt() throws Exception {
        String queue = unique("queue");
        String deployment = deploy("""
                {"tasks": [{"id": "remote", "backend": {"type": "worker", "queue": "%s", "image": "etl:1"}}]}"""
                .formatted(queue));
        String runId = startRun(deployment);

        HttpResponse<String> polled = workerPost("/v1/workers/poll",
                "{\"queue\": \"%s\", \"worker_id\": \"w1\", \"wait_seconds\": 15}".formatted(queue), null);
        JsonNode work = json.readTree(polled.body());
        String attemptPath = "/v1/workers/attempts/" + runId + "/remote/1";
        HttpResponse<String> beat = workerPost(attemptPath + "/heartbeat", "{\"worker_id\": \"w1\"}", null);
        HttpResponse<String> intruder = workerPost(attemptPath + "/complete", "{\"worker_id\": \"w2\"}", null);
        HttpResponse<String> done = workerPost(attemptPath + "/complete",
                "{\"worker_id\": \"w1\", \"output\": {\"rows\": 7}}", null);
        // the 202 comes after the outcome is recorded, not after it was queued: a node dying now loses nothing
        boolean recordedWhenAnswered = storageEngine.readEvents(runId + "/remote", 0).asStream()
                .anyMatch(event -> event.getPayload() instanceof io.dagy.contracts.run.TaskRunEvents.TaskAttemptSucceeded);
        JsonNode run = awaitFinished(runId);

        assertThat(polled.statusCode()).isEqualTo(200);
        assertThat(work.get("dispatch_id").asString()).isEqualTo(runId + "/remote/1");
        assertThat(work.at("/config/image").asString()).isEqualTo("etl:1");
        assertThat(work.at("/params/day").asString()).isEqualTo("2026-11-22");
        assertThat(json.readTree(beat.body()).get("cancel_requested").asBoolean()).isFalse();
        assertThat(intruder.statusCode()).isEqualTo(404);
        assertThat(done.statusCode()).isEqualTo(202);
        assertThat(recordedWhenAnswered).isTrue();
        assertThat(run.get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(run.at("/tasks/0/attempts/0/output/rows").asInt()).isEqualTo(7);
        HttpResponse<String> empty = workerPost("/v1/workers/poll",
                "{\"queue\": \"%s\", \"worker_id\": \"w1\", \"wait_seconds\": 0}".formatted(queue), null);
        assertThat(empty.statusCode()).isEqualTo(204);
    }

    @Test
    void aWorkerThatStopsHeartbeatingTimesTheTaskOut() throws Exception {
        String queue = unique("queue");
        String deployment = deploy("""
                {"tasks": [{"id": "remote", "backend": {"type": "worker", "queue": "%s"},
                            "timeouts": {"heartbeat": "PT1S"}}]}""".formatted(queue));
        String runId = startRun(deployment);

        HttpResponse<String> polled = workerPost("/v1/workers/poll",
                "{\"queue\": \"%s\", \"worker_id\": \"w1\", \"wait_seconds\": 15}".formatted(queue), null);
        JsonNode run = awaitFinished(runId);

        assertThat(polled.statusCode()).isEqualTo(200);
        assertThat(run.at("/tasks/0/status").asString()).isEqualTo("TIMED_OUT");
        assertThat(run.at("/tasks/0/attempts/0/message").asString()).contains("heartbeat");
    }

    @Test
    void aRerunRunsTheFailedTaskAgainAndKeepsWhatSucceeded() throws Exception {
        Path flag = Files.createTempFile("dagy-rerun", ".flag");
        Files.delete(flag);
        String deployment = deploy("""
                {"tasks": [
                  {"id": "first", "backend": {"type": "noop"}},
                  {"id": "fragile", "backend": {"type": "local", "command": ["sh", "-c", "test -f %s"]},
                   "depends_on": ["first"]},
                  {"id": "last", "backend": {"type": "noop"}, "depends_on": ["fragile"]}
                ]}""".formatted(flag));
        String runId = startRun(deployment);
        assertThat(awaitFinished(runId).get("status").asString()).isEqualTo("FAILED");
        assertThat(post("/v1/runs/" + runId + "/rerun", "", null).statusCode()).isEqualTo(202);
        Files.createFile(flag);

        JsonNode run = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(
                () -> json.readTree(get("/v1/runs/" + runId).body()),
                view -> "SUCCEEDED".equals(view.get("status").asString()));

        assertThat(run.at("/tasks/0/attempts")).hasSize(1);
        assertThat(run.at("/tasks/1/attempts")).hasSize(2);
        assertThat(run.at("/tasks/1/attempts/1/status").asString()).isEqualTo("SUCCEEDED");
        assertThat(run.at("/tasks/2/status").asString()).isEqualTo("SUCCEEDED");
    }

    @Test
    void twentyIdenticalRequestsAtOnceStartExactlyOneRun() throws Exception {
        String deployment = deploy("{\"tasks\": [{\"id\": \"only\", \"backend\": {\"type\": \"noop\"}}]}");
        String key = UUID.randomUUID().toString();
        ExecutorService pool = Executors.newFixedThreadPool(20);
        List<HttpResponse<String>> responses;
        try {
            var requests = IntStream.range(0, 20).mapToObj(i -> CompletableFuture.supplyAsync(() -> {
                try {
                    return post("/v1/deployments/" + deployment + "/runs", "{\"params\": {}}", key);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, pool)).toList();
            responses = requests.stream().map(CompletableFuture::join).toList();
        } finally {
            pool.shutdown();
        }

        Set<String> runIds = new HashSet<>();
        for (HttpResponse<String> response : responses) {
            assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
            runIds.add(json.readTree(response.body()).get("run_id").asString());
        }
        assertThat(runIds).hasSize(1);
        String runId = runIds.iterator().next();
        assertThat(storageEngine.readEvents(runId, 0).asStream()
                .filter(event -> event.getPayload() instanceof RunStarted).count()).isEqualTo(1);
        assertThat(awaitFinished(runId).get("status").asString()).isEqualTo("SUCCEEDED");

        // the key again, once its run has ended: the same run, as it stands (it used to say RUNNING whatever it was)
        HttpResponse<String> again = post("/v1/deployments/" + deployment + "/runs", "{\"params\": {}}", key);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(202);
        assertThat(json.readTree(again.body()).get("run_id").asString()).isEqualTo(runId);
        assertThat(json.readTree(again.body()).get("status").asString()).isEqualTo("SUCCEEDED");
    }

    @Test
    void runsAreListedNewestFirstByDeploymentAndStatusAPageAtATime() throws Exception {
        String deployment = deploy("{\"tasks\": [{\"id\": \"only\", \"backend\": {\"type\": \"noop\"}}]}");
        List<String> started = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            started.add(startRun(deployment));
            awaitFinished(started.get(i));
        }

        JsonNode firstPage = json.readTree(get("/v1/runs?deployment=" + deployment + "&status=succeeded&limit=2").body());
        JsonNode secondPage = json.readTree(get("/v1/runs?deployment=" + deployment + "&status=SUCCEEDED&limit=2&cursor="
                + firstPage.get("next_cursor").asString()).body());
        JsonNode failed = json.readTree(get("/v1/runs?deployment=" + deployment + "&status=FAILED").body());
        HttpResponse<String> invalid = get("/v1/runs?status=sideways&limit=500");

        assertThat(firstPage.get("items")).extracting(item -> item.get("run_id").asString())
                .containsExactly(started.get(2), started.get(1));
        assertThat(secondPage.get("items")).extracting(item -> item.get("run_id").asString())
                .containsExactly(started.get(0));
        assertThat(failed.get("items")).isEmpty();
        assertThat(invalid.statusCode()).isEqualTo(400);
        assertThat(json.readTree(invalid.body()).get("errors")).hasSize(2);
        assertThat(json.readTree(get("/v1/runs?limit=100").body()).get("items")).extracting(item -> item.get("run_id").asString())
                .contains(started.get(0), started.get(1), started.get(2));
    }

    @Test
    void startingARunOfAnUnknownDeploymentIsANotFoundProblem() throws Exception {
        HttpResponse<String> response = post("/v1/deployments/" + unique("ghost") + "/runs", "{}", null);

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(json.readTree(response.body()).get("code").asString()).isEqualTo("deployment_not_found");
        assertThat(json.readTree(get("/v1/runs/r-nope").body()).get("code").asString()).isEqualTo("run_not_found");
    }

    @Test
    void aReportThatCannotBeProcessedEndsInTheDeadLetterQueue() {
        String marker = "not json " + UUID.randomUUID();
        sqs.sendMessage(b -> b.queueUrl(resources.eventsQueueUrl().toString()).messageBody(marker));
        String queueName = resources.eventsQueueUrl().getPath().substring(resources.eventsQueueUrl().getPath().lastIndexOf('/') + 1);
        String deadLetters = sqs.getQueueUrl(b -> b.queueName(queueName + "-dlq")).queueUrl();

        await().atMost(Duration.ofSeconds(60)).until(() -> sqs.receiveMessage(b -> b.queueUrl(deadLetters)
                        .maxNumberOfMessages(10).waitTimeSeconds(1)).messages().stream()
                .anyMatch(message -> message.body().equals(marker)));
    }

    private String deploy(String dag) throws Exception {
        return ApiCalls.deploy(port, ownerKey.key(), unique("run"), dag);
    }

    private String startRun(String deployment) throws Exception {
        return ApiCalls.startRun(port, ownerKey.key(), deployment, "{\"params\": {\"day\": \"2026-11-22\"}}");
    }

    private JsonNode awaitFinished(String runId) {
        return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            HttpResponse<String> response = get("/v1/runs/" + runId);
            return response.statusCode() == 200 ? json.readTree(response.body()) : null;
        }, run -> run != null && List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(run.get("status").asString()));
    }

    private HttpResponse<String> post(String path, String body, String idempotencyKey) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + ownerKey.key())
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String workerKey;

    /** As an external worker: with a worker key of the default organization, made on first use. */
    private HttpResponse<String> workerPost(String path, String body, String ignored) throws Exception {
        if (workerKey == null) {
            HttpResponse<String> created = post("/v1/api-keys", "{\"name\": \"test worker\", \"role\": \"worker\"}", null);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            workerKey = json.readTree(created.body()).get("key").asString();
        }
        return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + workerKey)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return ApiCalls.send(port, ownerKey.key(), "GET", path, null);
    }

    private static String text(JsonNode node) {
        return node.isNull() || node.isMissingNode() ? null : node.asString();
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
