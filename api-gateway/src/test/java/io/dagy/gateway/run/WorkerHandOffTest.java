package io.dagy.gateway.run;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.contracts.run.TaskRunEvents;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.gateway.support.ApiCalls;
import io.dagy.gateway.support.SentTransactions;
import io.dagy.gateway.support.TestOrganizations;
import io.dagy.tables.DagyTable;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A worker attempt committed on this node is handed straight to a poll waiting here (its guard written as leased, no
 * queue entry), and the saga's durable dispatch of the same attempt then changes nothing: every attempt reaches exactly
 * one worker once, whichever path it takes.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class WorkerHandOffTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    @Autowired
    LocalOwnerKey ownerKey;

    @Autowired
    ApplicationContext context;

    @Autowired
    DynamoDbClient dynamoDb;

    @Autowired
    DagyResources resources;

    @Test
    void aChainAndAFanOutReachEightPollingWorkersEachAttemptOnce() throws Exception {
        chainAndFanOut(false);
    }

    /** The same, with workers that ask for their next attempt in each report (decision 84). */
    @Test
    void workersThatPollWithTheirReportsGetEachAttemptOnce() throws Exception {
        chainAndFanOut(true);
    }

    /**
     * A lone worker walking a chain with reports that poll is handed each next task by its own report: the attempt its
     * completion makes ready is kept for the report's poll (not queued by the saga), so every hop is one call.
     */
    @Test
    void aLoneWorkersReportIsHandedTheTaskItMadeReady() throws Exception {
        String queue = "handoff-" + UUID.randomUUID().toString().substring(0, 8);
        String workerKey = new TestOrganizations(context).key(OrgId.DEFAULT, Role.WORKER);
        String deployment = "handoff-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(ApiCalls.send(port, ownerKey.key(), "PUT", "/v1/deployments/" + deployment, "{\"tasks\": ["
                + task("c0", null, queue) + ", " + task("c1", "c0", queue) + ", " + task("c2", "c1", queue) + ", "
                + task("c3", "c2", queue) + "]}").statusCode()).isEqualTo(200);
        String runId = JSON.readTree(ApiCalls.send(port, ownerKey.key(), "POST",
                "/v1/deployments/" + deployment + "/runs", "{}").body()).get("run_id").asString();
        HttpResponse<String> polled = ApiCalls.send(port, workerKey, "POST", "/v1/workers/poll",
                "{\"queue\": \"%s\", \"worker_id\": \"w1\", \"wait_seconds\": 10}".formatted(queue));
        assertThat(polled.statusCode()).as(polled.body()).isEqualTo(200);
        JsonNode item = JSON.readTree(polled.body());
        long queueWrites = SentTransactions.touching("worker-dispatch#" + runId); // a queue write and a lease touch the guard

        List<String> handed = new ArrayList<>();
        for (int hop = 1; hop <= 3; hop++) {
            HttpResponse<String> done = ApiCalls.send(port, workerKey, "POST", "/v1/workers/attempts/" + runId + "/"
                            + item.get("task_id").asString() + "/" + item.get("attempt").asInt() + "/complete",
                    "{\"worker_id\": \"w1\", \"output\": {}, \"poll\": {\"queue\": \"%s\", \"wait_seconds\": 10}}"
                            .formatted(queue));
            assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
            item = JSON.readTree(done.body());
            handed.add(item.get("dispatch_id").asString());
        }

        assertThat(handed).containsExactly(runId + "/c1/1", runId + "/c2/1", runId + "/c3/1");
        assertThat(handed).allSatisfy(dispatchId -> assertThat(guard(dispatchId)).doesNotContainKey("entry"));
        assertThat(ApiCalls.send(port, workerKey, "POST", "/v1/workers/attempts/" + runId + "/c3/1/complete",
                "{\"worker_id\": \"w1\", \"output\": {}}").statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(ApiCalls.send(port, ownerKey.key(), "GET",
                "/v1/runs/" + runId, null).body()).get("status").asString().equals("SUCCEEDED"));
        // the sagas' dispatches of the handed-over attempts knew them leased here: no queue write was even tried
        assertThat(SentTransactions.touching("worker-dispatch#" + runId) - queueWrites).isZero();
    }

    /**
     * An attempt handed over on this node without a schedule-to-start timeout has its start recorded by its
     * completion, in one commit, when the completion comes within the wait (decision 89); one that takes longer has it
     * recorded alone once the wait is over, so a running task shows as running.
     */
    @Test
    void aHandedOverAttemptsStartIsRecordedWithItsCompletionOrAfterTheWait() throws Exception {
        String queue = "handoff-" + UUID.randomUUID().toString().substring(0, 8);
        String workerKey = new TestOrganizations(context).key(OrgId.DEFAULT, Role.WORKER);
        String deployment = "handoff-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(ApiCalls.send(port, ownerKey.key(), "PUT", "/v1/deployments/" + deployment, "{\"tasks\": ["
                + task("c0", null, queue) + ", " + task("c1", "c0", queue) + ", " + task("c2", "c1", queue)
                + "]}").statusCode()).isEqualTo(200);
        String runId = JSON.readTree(ApiCalls.send(port, ownerKey.key(), "POST",
                "/v1/deployments/" + deployment + "/runs", "{}").body()).get("run_id").asString();
        HttpResponse<String> polled = ApiCalls.send(port, workerKey, "POST", "/v1/workers/poll",
                "{\"queue\": \"%s\", \"worker_id\": \"w1\", \"wait_seconds\": 10}".formatted(queue));
        assertThat(polled.statusCode()).as(polled.body()).isEqualTo(200);

        // c1 is handed to c0's report; completed 300 ms later, its start comes with its completion
        JsonNode c1 = completeAndPoll(workerKey, runId, "c0", queue);
        Thread.sleep(300);
        Instant c1Completed = Instant.now();
        JsonNode c2 = completeAndPoll(workerKey, runId, "c1", queue);
        assertThat(c1.get("task_id").asString()).isEqualTo("c1");
        assertThat(started(runId + "/c1")).as("recorded with the completion, not right after the lease")
                .isAfterOrEqualTo(c1Completed);

        // c2 runs longer than the wait: its start is recorded alone, after the wait
        Instant c2Leased = Instant.now();
        assertThat(c2.get("task_id").asString()).isEqualTo("c2");
        await().atMost(Duration.ofSeconds(10)).until(() -> startedOrNull(runId + "/c2") != null);
        assertThat(started(runId + "/c2")).isAfter(c2Leased.plusMillis(400));
        assertThat(ApiCalls.send(port, workerKey, "POST", "/v1/workers/attempts/" + runId + "/c2/1/complete",
                "{\"worker_id\": \"w1\", \"output\": {}}").statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(ApiCalls.send(port, ownerKey.key(), "GET",
                "/v1/runs/" + runId, null).body()).get("status").asString().equals("SUCCEEDED"));
    }

    /**
     * The same for an attempt taken from the queue (no poll waited when it was dispatched); one that declares a
     * schedule-to-start timeout has its start recorded at once, for its deadline (decision 89).
     */
    @Test
    void aQueuedAttemptsStartWaitsForItsReportUnlessItHasAScheduleToStartTimeout() throws Exception {
        String queue = "handoff-" + UUID.randomUUID().toString().substring(0, 8);
        String workerKey = new TestOrganizations(context).key(OrgId.DEFAULT, Role.WORKER);
        String deployment = "handoff-" + UUID.randomUUID().toString().substring(0, 8);
        String timed = "{\"id\": \"timed\", \"backend\": {\"type\": \"worker\", \"queue\": \"%s\"},"
                + " \"timeouts\": {\"schedule_to_start\": \"PT1M\"}}";
        assertThat(ApiCalls.send(port, ownerKey.key(), "PUT", "/v1/deployments/" + deployment, "{\"tasks\": ["
                + task("plain", null, queue) + ", " + timed.formatted(queue) + "]}").statusCode()).isEqualTo(200);
        String runId = JSON.readTree(ApiCalls.send(port, ownerKey.key(), "POST",
                "/v1/deployments/" + deployment + "/runs", "{}").body()).get("run_id").asString();
        for (String taskId : List.of("plain", "timed")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                Map<String, AttributeValue> guard = guard(runId + "/" + taskId + "/1");
                return guard != null && guard.containsKey("entry");
            });
        }

        Map<String, Instant> completedAt = new ConcurrentHashMap<>();
        for (int taken = 0; taken < 2; taken++) {
            HttpResponse<String> polled = ApiCalls.send(port, workerKey, "POST", "/v1/workers/poll",
                    "{\"queue\": \"%s\", \"worker_id\": \"w1\", \"wait_seconds\": 10}".formatted(queue));
            assertThat(polled.statusCode()).as(polled.body()).isEqualTo(200);
            String taskId = JSON.readTree(polled.body()).get("task_id").asString();
            Thread.sleep(400); // less than the start's wait
            completedAt.put(taskId, Instant.now());
            assertThat(ApiCalls.send(port, workerKey, "POST", "/v1/workers/attempts/" + runId + "/" + taskId
                    + "/1/complete", "{\"worker_id\": \"w1\", \"output\": {}}").statusCode()).isEqualTo(202);
        }

        assertThat(started(runId + "/plain")).as("recorded with the completion").isAfterOrEqualTo(completedAt.get("plain"));
        assertThat(started(runId + "/timed")).as("recorded at once, for the deadline").isBefore(completedAt.get("timed"));
    }

    private JsonNode completeAndPoll(String workerKey, String runId, String taskId, String queue) throws Exception {
        HttpResponse<String> done = ApiCalls.send(port, workerKey, "POST", "/v1/workers/attempts/" + runId + "/"
                        + taskId + "/1/complete",
                "{\"worker_id\": \"w1\", \"output\": {}, \"poll\": {\"queue\": \"%s\", \"wait_seconds\": 10}}"
                        .formatted(queue));
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        return JSON.readTree(done.body());
    }

    private Instant started(String taskRunId) {
        Instant at = startedOrNull(taskRunId);
        assertThat(at).as("TaskAttemptStarted of " + taskRunId).isNotNull();
        return at;
    }

    private Instant startedOrNull(String taskRunId) {
        return context.getBean(EventStore.class).readEvents(taskRunId).asStream()
                .filter(event -> event.getPayload() instanceof TaskRunEvents.TaskAttemptStarted)
                .map(DomainEventMessage::getTimestamp).findFirst().orElse(null);
    }

    /** A report whose poll is invalid is refused whole: the attempt is not completed, and stays the worker's. */
    @Test
    void aReportWithAnInvalidPollChangesNothing() throws Exception {
        String queue = "handoff-" + UUID.randomUUID().toString().substring(0, 8);
        String workerKey = new TestOrganizations(context).key(OrgId.DEFAULT, Role.WORKER);
        String deployment = "handoff-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(ApiCalls.send(port, ownerKey.key(), "PUT", "/v1/deployments/" + deployment,
                "{\"tasks\": [" + task("only", null, queue) + "]}").statusCode()).isEqualTo(200);
        HttpResponse<String> started = ApiCalls.send(port, ownerKey.key(), "POST",
                "/v1/deployments/" + deployment + "/runs", "{}");
        String runId = JSON.readTree(started.body()).get("run_id").asString();
        HttpResponse<String> polled = ApiCalls.send(port, workerKey, "POST", "/v1/workers/poll",
                "{\"queue\": \"%s\", \"worker_id\": \"w1\", \"wait_seconds\": 10}".formatted(queue));
        assertThat(polled.statusCode()).as(polled.body()).isEqualTo(200);
        String path = "/v1/workers/attempts/" + runId + "/only/1/complete";

        HttpResponse<String> refused = ApiCalls.send(port, workerKey, "POST", path,
                "{\"worker_id\": \"w1\", \"output\": {}, \"poll\": {\"queue\": \"no spaces allowed\"}}");

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        assertThat(JSON.readTree(refused.body()).get("code").asString()).isEqualTo("validation_failed");
        assertThat(refused.body()).contains("poll.queue");
        Thread.sleep(500);
        assertThat(JSON.readTree(ApiCalls.send(port, ownerKey.key(), "GET", "/v1/runs/" + runId, null).body())
                .get("status").asString()).isEqualTo("RUNNING");
        HttpResponse<String> done = ApiCalls.send(port, workerKey, "POST", path,
                "{\"worker_id\": \"w1\", \"output\": {}, \"poll\": {\"queue\": \"%s\", \"wait_seconds\": 0}}"
                        .formatted(queue));
        assertThat(done.statusCode()).as(done.body()).isEqualTo(202); // completed; nothing else to hand out
        await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(ApiCalls.send(port, ownerKey.key(), "GET",
                "/v1/runs/" + runId, null).body()).get("status").asString().equals("SUCCEEDED"));
    }

    private final AtomicInteger handedWithReports = new AtomicInteger();

    private void chainAndFanOut(boolean pollWithReports) throws Exception {
        String queue = "handoff-" + UUID.randomUUID().toString().substring(0, 8);
        String workerKey = new TestOrganizations(context).key(OrgId.DEFAULT, Role.WORKER);
        StringBuilder tasks = new StringBuilder();
        for (int i = 0; i < 12; i++) { // a chain of 12, then a fan-out of 10 behind it
            tasks.append(i == 0 ? "" : ", ").append(task("c" + i, i == 0 ? null : "c" + (i - 1), queue));
        }
        for (int i = 0; i < 10; i++) {
            tasks.append(", ").append(task("f" + i, "c11", queue));
        }
        String deployment = "handoff-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> put = ApiCalls.send(port, ownerKey.key(), "PUT", "/v1/deployments/" + deployment,
                "{\"tasks\": [" + tasks + "]}");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

        Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
        List<String> failures = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService workers = Executors.newFixedThreadPool(8);
        for (int w = 0; w < 8; w++) {
            String workerId = "w" + w;
            workers.execute(() -> work(workerKey, queue, workerId, received, failures, stop, pollWithReports));
        }
        try {
            Thread.sleep(300); // the polls are waiting before the run starts: its first attempt is handed over
            HttpResponse<String> started = ApiCalls.send(port, ownerKey.key(), "POST",
                    "/v1/deployments/" + deployment + "/runs", "{}");
            assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
            String runId = JSON.readTree(started.body()).get("run_id").asString();

            JsonNode run = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                    .until(() -> JSON.readTree(ApiCalls.send(port, ownerKey.key(), "GET", "/v1/runs/" + runId, null).body()),
                            view -> view.has("status") && !view.get("status").asString().equals("RUNNING"));

            assertThat(run.get("status").asString()).isEqualTo("SUCCEEDED");
            assertThat(failures).isEmpty();
            assertThat(received).hasSize(22);
            assertThat(received.values()).allSatisfy(count -> assertThat(count.get()).isEqualTo(1));
            // handed over, not queued: guards without a queue entry; and nothing is left in the queue
            long handedOver = received.keySet().stream().filter(dispatchId -> !guard(dispatchId).containsKey("entry")).count();
            assertThat(handedOver).isPositive();
            if (pollWithReports) {
                assertThat(handedWithReports.get()).isPositive();
            }
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(queueEntries(queue)).isZero());
        } finally {
            stop.set(true);
            workers.shutdown();
            workers.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private void work(String key, String queue, String workerId, Map<String, AtomicInteger> received,
                      List<String> failures, AtomicBoolean stop, boolean pollWithReports) {
        try {
            JsonNode item = null;
            while (!stop.get()) {
                if (item == null) {
                    HttpResponse<String> polled = ApiCalls.send(port, key, "POST", "/v1/workers/poll",
                            "{\"queue\": \"%s\", \"worker_id\": \"%s\", \"wait_seconds\": 1}".formatted(queue, workerId));
                    if (polled.statusCode() == 204) {
                        continue;
                    }
                    item = JSON.readTree(polled.body());
                }
                String dispatchId = item.get("dispatch_id").asString();
                received.computeIfAbsent(dispatchId, id -> new AtomicInteger()).incrementAndGet();
                String path = "/v1/workers/attempts/" + item.get("run_id").asString() + "/" + item.get("task_id").asString()
                        + "/" + item.get("attempt").asInt() + "/complete";
                HttpResponse<String> done = ApiCalls.send(port, key, "POST", path, pollWithReports
                        ? "{\"worker_id\": \"%s\", \"output\": {}, \"poll\": {\"queue\": \"%s\", \"wait_seconds\": 1}}"
                                .formatted(workerId, queue)
                        : "{\"worker_id\": \"" + workerId + "\", \"output\": {}}");
                item = null;
                if (done.statusCode() == 200 && pollWithReports) {
                    item = JSON.readTree(done.body()); // the next attempt, handed over with the report's answer
                    handedWithReports.incrementAndGet();
                } else if (done.statusCode() != 202) {
                    failures.add(dispatchId + ": " + done.statusCode() + " " + done.body());
                }
            }
        } catch (Exception e) {
            failures.add(workerId + ": " + e);
        }
    }

    private static String task(String id, String dependsOn, String queue) {
        return "{\"id\": \"%s\", \"backend\": {\"type\": \"worker\", \"queue\": \"%s\"}%s}".formatted(id, queue,
                dependsOn == null ? "" : ", \"depends_on\": [\"" + dependsOn + "\"]");
    }

    private Map<String, AttributeValue> guard(String dispatchId) {
        return dynamoDb.getItem(b -> b.tableName(resources.table(DagyTable.TASK_RUNS)).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS("worker-dispatch#" + dispatchId),
                        "sk", AttributeValue.fromS("dispatch")))).item();
    }

    private int queueEntries(String queue) {
        return dynamoDb.query(b -> b.tableName(resources.table(DagyTable.TASK_RUNS)).consistentRead(true)
                .keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("worker-queue#" + queue)))).count();
    }
}
