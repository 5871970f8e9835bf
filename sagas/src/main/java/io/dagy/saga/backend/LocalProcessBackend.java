package io.dagy.saga.backend;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import io.dagy.contracts.deployment.BackendType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Runs an attempt as a subprocess of this node: {@code command} (a list), optional {@code env} and
 * {@code working_dir}. The process also gets {@code DAGY_RUN_ID}, {@code DAGY_TASK_ID}, {@code DAGY_ATTEMPT},
 * {@code DAGY_DISPATCH_ID} and the run's params as JSON in {@code DAGY_PARAMS}. Its stdout and stderr are stored in
 * the artifact bucket under {@code runs/<run>/<task>/<attempt>/}. Exit code 0 succeeds; any other fails with error
 * kind {@code exit_<code>}. Cancel kills the process and its descendants.
 *
 * <p>A dispatch id is started at most once, by any node, ever: before starting, the backend records the dispatch id
 * in {@code DAGY_TASK_RUNS} with a conditional put, and a dispatch id recorded before is not started again (the saga
 * dispatches again when the node died after the dispatch and before its commit). Processes do not survive a restart
 * of their node: their attempts time out and are retried under a new dispatch id.
 *
 * <p>A cancel (or a timeout) may be handled by another node than the one running the process: it marks the dispatch's
 * record {@code cancel_requested}, and every node checks the records of the processes it runs once a second (one
 * {@code BatchGetItem} per 100 processes, only while some run) and kills those marked.
 */
public final class LocalProcessBackend implements ExecutionBackend, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LocalProcessBackend.class);
    private final BackendReports reports;
    private final DynamoDbClient dynamoDb;
    private final String table;
    private final S3Client s3;
    private final String bucket;
    private final JsonMapper json;
    private final Map<String, Process> running = new ConcurrentHashMap<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.ScheduledExecutorService cancelWatch =
            Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "local-task-cancel-watch");
                thread.setDaemon(true);
                return thread;
            });
    private final ContextCarrier carrier;
    private final ExecutorService waiters = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "local-task");
        thread.setDaemon(true);
        return thread;
    });

    public LocalProcessBackend(BackendReports reports, DynamoDbClient dynamoDb, String table, S3Client s3, String bucket,
                               JsonMapper json) {
        this(reports, dynamoDb, table, s3, bucket, json, ContextCarrier.NONE);
    }

    /** The task's thread keeps the dispatch's trace and logging context ({@code carrier}). */
    public LocalProcessBackend(BackendReports reports, DynamoDbClient dynamoDb, String table, S3Client s3, String bucket,
                               JsonMapper json, ContextCarrier carrier) {
        this.carrier = carrier;
        this.reports = reports;
        this.dynamoDb = dynamoDb;
        this.table = table;
        cancelWatch.scheduleWithFixedDelay(this::killCancelledElsewhere, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
        this.s3 = s3;
        this.bucket = bucket;
        this.json = json;
    }

    @Override
    public BackendType type() {
        return BackendType.LOCAL;
    }

    @Override
    public void dispatch(Dispatch dispatch) {
        if (!claim(dispatch.dispatchId())) {
            log.info("Dispatch {} was started before; not starting it again", dispatch.dispatchId());
            return;
        }
        waiters.submit(carrier.carry(() -> execute(dispatch)));
    }

    private static Map<String, AttributeValue> dispatchKey(String dispatchId) {
        return Map.of("pk", AttributeValue.fromS("local-dispatch#" + dispatchId), "sk", AttributeValue.fromS("dispatch"));
    }

    /** Kills the processes of this node whose dispatch another node cancelled. */
    private void killCancelledElsewhere() {
        try {
            List<String> ids = running.keySet().stream().filter(id -> !cancelled.contains(id)).toList();
            for (int from = 0; from < ids.size(); from += 100) {
                List<Map<String, AttributeValue>> keys = ids.subList(from, Math.min(ids.size(), from + 100)).stream()
                        .map(LocalProcessBackend::dispatchKey).toList();
                var response = dynamoDb.batchGetItem(b -> b.requestItems(Map.of(table,
                        software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes.builder()
                                .keys(keys).consistentRead(true).build())));
                response.responses().getOrDefault(table, List.of()).stream()
                        .filter(item -> item.containsKey("cancel_requested") && item.get("cancel_requested").bool())
                        .map(item -> item.get("pk").s().substring("local-dispatch#".length()))
                        .forEach(this::killHere);
            }
        } catch (RuntimeException e) {
            log.debug("Checking for cancels of local tasks failed; trying again in a second", e);
        }
    }

    private void killHere(String dispatchId) {
        log.info("Local task {} was cancelled on another node; stopping it", dispatchId);
        cancelled.add(dispatchId);
        Process process = running.get(dispatchId);
        if (process != null) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    /** Records the dispatch id; false if it was recorded before (by this node or another, before a crash or not). */
    private boolean claim(String dispatchId) {
        try {
            dynamoDb.putItem(b -> b.tableName(table).item(Map.of(
                            "pk", AttributeValue.fromS("local-dispatch#" + dispatchId),
                            "sk", AttributeValue.fromS("dispatch"),
                            "at", AttributeValue.fromS(java.time.Instant.now().toString())))
                    .conditionExpression("attribute_not_exists(pk)"));
            return true;
        } catch (ConditionalCheckFailedException startedBefore) {
            return false;
        }
    }

    @Override
    public void cancel(String dispatchId) {
        cancelled.add(dispatchId);
        try {
            // for the node that runs it, if that is not this one
            dynamoDb.updateItem(b -> b.tableName(table).key(dispatchKey(dispatchId))
                    .updateExpression("SET cancel_requested = :yes").conditionExpression("attribute_exists(pk)")
                    .expressionAttributeValues(Map.of(":yes", AttributeValue.fromBool(true))));
        } catch (ConditionalCheckFailedException neverStarted) {
            // not dispatched to any node: nothing runs that could be stopped
        }
        Process process = running.get(dispatchId);
        if (process != null) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    private void execute(Dispatch dispatch) {
        Path out = null;
        Path err = null;
        try {
            Map<String, Object> config = dispatch.spec().backend().config();
            @SuppressWarnings("unchecked")
            List<String> command = (List<String>) config.get("command");
            ProcessBuilder builder = new ProcessBuilder(command);
            if (config.get("working_dir") instanceof String dir) {
                builder.directory(Path.of(dir).toFile());
            }
            if (config.get("env") instanceof Map<?, ?> env) {
                env.forEach((key, value) -> builder.environment().put(String.valueOf(key), String.valueOf(value)));
            }
            builder.environment().put("DAGY_RUN_ID", dispatch.taskRunId().runId().value());
            builder.environment().put("DAGY_TASK_ID", dispatch.taskRunId().taskId());
            builder.environment().put("DAGY_ATTEMPT", Integer.toString(dispatch.attempt()));
            builder.environment().put("DAGY_DISPATCH_ID", dispatch.dispatchId());
            builder.environment().put("DAGY_PARAMS", json.writeValueAsString(dispatch.params()));
            out = Files.createTempFile("dagy-stdout", ".log");
            err = Files.createTempFile("dagy-stderr", ".log");
            builder.redirectOutput(out.toFile()).redirectError(err.toFile());
            Process process = builder.start();
            running.put(dispatch.dispatchId(), process);
            if (cancelled.contains(dispatch.dispatchId())) {
                process.destroyForcibly();
            }
            reports.started(dispatch.dispatchId());
            int exitCode = process.waitFor();
            running.remove(dispatch.dispatchId());
            String prefix = "runs/" + dispatch.taskRunId().runId().value() + "/" + dispatch.taskRunId().taskId() + "/"
                    + dispatch.attempt() + "/";
            s3.putObject(b -> b.bucket(bucket).key(prefix + "stdout.log"), RequestBody.fromFile(out));
            s3.putObject(b -> b.bucket(bucket).key(prefix + "stderr.log"), RequestBody.fromFile(err));
            if (cancelled.contains(dispatch.dispatchId())) {
                return; // the saga that cancelled it decides what happens next
            }
            if (exitCode == 0) {
                reports.succeeded(dispatch.dispatchId(), Map.of("exit_code", 0, "stdout", prefix + "stdout.log",
                        "stderr", prefix + "stderr.log"));
            } else {
                reports.failed(dispatch.dispatchId(), "exit_" + exitCode,
                        "exited with code " + exitCode + "; stderr in " + prefix + "stderr.log");
            }
        } catch (IOException | RuntimeException e) {
            if (cancelled.contains(dispatch.dispatchId()) || waiters.isShutdown()) {
                return; // cancelled, or this node is stopping (its S3 upload was interrupted): not a failure of the task
            }
            log.warn("Local task {} could not run", dispatch.dispatchId(), e);
            reports.failed(dispatch.dispatchId(), "launch_failed", e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            running.remove(dispatch.dispatchId());
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }

    @Override
    public void close() {
        cancelWatch.shutdownNow();
        running.values().forEach(Process::destroyForcibly);
        waiters.shutdownNow();
    }
}
