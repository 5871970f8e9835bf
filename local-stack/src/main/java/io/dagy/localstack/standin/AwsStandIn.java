package io.dagy.localstack.standin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A <strong>stand-in</strong> for the three AWS APIs the execution backends call, on 127.0.0.1, for tests: no AWS
 * account is reachable here. It speaks the wire protocols the SDK v2 clients use (Step Functions and ECS: JSON over
 * POST with {@code X-Amz-Target}; Lambda: REST {@code POST /2015-03-31/functions/<name>/invocations}), records every
 * request, and answers as the services document it for the calls Dagy makes:
 * <ul>
 *   <li>{@code StartExecution}: one execution per state machine and name; the same name with the same input returns
 *       the execution started before, with another input {@code ExecutionAlreadyExists};
 *       {@code StopExecution} of an unknown ARN is {@code ExecutionDoesNotExist};</li>
 *   <li>{@code RunTask}: one task per {@code clientToken}; {@code ListTasks} filters by {@code startedBy} and
 *       {@code desiredStatus}; {@code StopTask} marks the task stopped;</li>
 *   <li>{@code Invoke} with {@code X-Amz-Invocation-Type: Event}: 202 and a request id.</li>
 * </ul>
 * Errors are scripted per action ({@link #failNext}), in each protocol's error shape. It does not run anything: tests
 * play the services' state changes by putting EventBridge-shaped messages on the events queue. It is not AWS: a real
 * account can still refuse what this accepts (IAM, quotas, a state machine's own input checks).
 */
public final class AwsStandIn implements AutoCloseable {

    public static final String ACCOUNT = "123456789012";
    public static final String REGION = "us-east-1";

    /** One request as received: service ({@code states}, {@code ecs}, {@code lambda}), action, JSON body, headers. */
    public record Request(String service, String action, JsonNode body, Map<String, String> headers, String path) {
    }

    private record Failure(int status, String type, String message) {
    }

    private final HttpServer server;
    private final JsonMapper json = JsonMapper.builder().build();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, Deque<Failure>> failures = new ConcurrentHashMap<>();
    private final Map<String, String[]> executions = new ConcurrentHashMap<>(); // machine|name -> {arn, input}
    private final Map<String, String> stoppedExecutions = new ConcurrentHashMap<>();
    private final Map<String, ObjectNode> tasksByToken = new ConcurrentHashMap<>();
    private final List<Consumer<Request>> listeners = new CopyOnWriteArrayList<>();

    private AwsStandIn(HttpServer server) {
        this.server = server;
    }

    public static AwsStandIn start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            AwsStandIn standIn = new AwsStandIn(server);
            server.createContext("/", standIn::handle);
            server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool(runnable -> {
                Thread thread = new Thread(runnable, "aws-stand-in");
                thread.setDaemon(true);
                return thread;
            }));
            server.start();
            return standIn;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Every request so far, in arrival order. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    public List<Request> requests(String action) {
        return requests.stream().filter(request -> request.action().equals(action)).toList();
    }

    /**
     * Runs for every request before it is answered, in the request's thread (e.g. to play the service's state changes,
     * or another node's work that overlaps the call).
     */
    public void onRequest(Consumer<Request> listener) {
        listeners.add(listener);
    }

    /**
     * The next {@code times} calls of {@code action} fail with this HTTP status and AWS error type, e.g.
     * {@code 400 ThrottlingException}, {@code 400 AccessDeniedException}, {@code 404 ResourceNotFoundException}.
     */
    public void failNext(String action, int times, int status, String errorType) {
        Deque<Failure> queue = failures.computeIfAbsent(action, a -> new ConcurrentLinkedDeque<>());
        for (int i = 0; i < times; i++) {
            queue.add(new Failure(status, errorType, errorType + " (scripted by the stand-in)"));
        }
    }

    /** How many distinct executions and tasks were started, whatever the number of requests. */
    public int startedExecutions() {
        return executions.size();
    }

    public int startedTasks() {
        return tasksByToken.size();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            String body = new String(raw, StandardCharsets.UTF_8);
            Map<String, String> headers = exchange.getRequestHeaders().entrySet().stream()
                    .collect(Collectors.toMap(e -> e.getKey().toLowerCase(), e -> String.join(",", e.getValue()),
                            (a, b) -> a, LinkedHashMap::new));
            String path = exchange.getRequestURI().getPath();
            String target = headers.getOrDefault("x-amz-target", "");
            String service;
            String action;
            if (target.startsWith("AWSStepFunctions.")) {
                service = "states";
                action = target.substring("AWSStepFunctions.".length());
            } else if (target.startsWith("AmazonEC2ContainerServiceV20141113.")) {
                service = "ecs";
                action = target.substring("AmazonEC2ContainerServiceV20141113.".length());
            } else if (path.startsWith("/2015-03-31/functions/") && path.endsWith("/invocations")) {
                service = "lambda";
                action = "Invoke";
            } else {
                respond(exchange, 400, "application/json", "{\"__type\":\"UnknownOperationException\"}");
                return;
            }
            JsonNode parsed = body.isBlank() ? json.createObjectNode() : json.readTree(body);
            Request request = new Request(service, action, parsed, headers, path);
            requests.add(request);
            listeners.forEach(listener -> listener.accept(request));
            Deque<Failure> scripted = failures.get(action);
            Failure failure = scripted == null ? null : scripted.poll();
            if (failure != null) {
                fail(exchange, service, failure);
            } else {
                answer(exchange, request);
            }
        }
    }

    private void answer(HttpExchange exchange, Request request) throws IOException {
        JsonNode body = request.body();
        switch (request.action()) {
            case "StartExecution" -> {
                String machine = body.path("stateMachineArn").asString();
                String name = body.path("name").asString();
                String input = body.path("input").asString("{}");
                String arn = machine.replace(":stateMachine:", ":execution:") + ":" + name;
                String[] before = executions.putIfAbsent(machine + "|" + name, new String[]{arn, input});
                if (before != null && !before[1].equals(input)) {
                    fail(exchange, "states", new Failure(400, "ExecutionAlreadyExists", "Execution Already Exists: '"
                            + arn + "'"));
                    return;
                }
                respondJson(exchange, 200, json.createObjectNode().put("executionArn", arn).put("startDate", now()));
            }
            case "StopExecution" -> {
                String arn = body.path("executionArn").asString();
                if (executions.values().stream().noneMatch(execution -> execution[0].equals(arn))) {
                    fail(exchange, "states", new Failure(400, "ExecutionDoesNotExist", "Execution Does Not Exist: '"
                            + arn + "'"));
                    return;
                }
                stoppedExecutions.put(arn, body.path("error").asString(""));
                respondJson(exchange, 200, json.createObjectNode().put("stopDate", now()));
            }
            case "RunTask" -> {
                String token = body.path("clientToken").asString(UUID.randomUUID().toString());
                String cluster = body.path("cluster").asString("default");
                ObjectNode task = tasksByToken.computeIfAbsent(token, t -> {
                    ObjectNode created = json.createObjectNode();
                    created.put("taskArn", "arn:aws:ecs:" + REGION + ":" + ACCOUNT + ":task/" + cluster + "/"
                            + UUID.randomUUID().toString().replace("-", ""));
                    created.put("clusterArn", "arn:aws:ecs:" + REGION + ":" + ACCOUNT + ":cluster/" + cluster);
                    created.put("taskDefinitionArn", body.path("taskDefinition").asString());
                    created.put("startedBy", body.path("startedBy").asString(""));
                    created.put("lastStatus", "PROVISIONING");
                    created.put("desiredStatus", "RUNNING");
                    created.put("launchType", "FARGATE");
                    return created;
                });
                ObjectNode response = json.createObjectNode();
                response.putArray("tasks").add(task);
                response.putArray("failures");
                respondJson(exchange, 200, response);
            }
            case "ListTasks" -> {
                String startedBy = body.path("startedBy").asString("");
                String desired = body.path("desiredStatus").asString("RUNNING");
                ObjectNode response = json.createObjectNode();
                var arns = response.putArray("taskArns");
                tasksByToken.values().stream()
                        .filter(task -> startedBy.isEmpty() || startedBy.equals(task.path("startedBy").asString()))
                        .filter(task -> desired.equals(task.path("desiredStatus").asString()))
                        .forEach(task -> arns.add(task.path("taskArn").asString()));
                respondJson(exchange, 200, response);
            }
            case "StopTask" -> {
                String arn = body.path("task").asString();
                ObjectNode task = tasksByToken.values().stream()
                        .filter(candidate -> candidate.path("taskArn").asString().equals(arn)).findFirst().orElse(null);
                if (task == null) {
                    fail(exchange, "ecs", new Failure(400, "InvalidParameterException", "The referenced task was not "
                            + "found."));
                    return;
                }
                task.put("desiredStatus", "STOPPED").put("stoppedReason", body.path("reason").asString(""));
                respondJson(exchange, 200, json.createObjectNode().set("task", task));
            }
            case "Invoke" -> {
                exchange.getResponseHeaders().add("x-amzn-RequestId", UUID.randomUUID().toString());
                boolean async = "Event".equals(request.headers().get("x-amz-invocation-type"));
                respond(exchange, async ? 202 : 200, "application/json", async ? "" : "{}");
            }
            default -> fail(exchange, request.service(), new Failure(400, "UnknownOperationException",
                    request.action() + " is not part of the stand-in"));
        }
    }

    /** The Step Functions error a {@code StopExecution} set, or null if the execution was not stopped. */
    public String stopError(String executionArn) {
        return stoppedExecutions.get(executionArn);
    }

    private void fail(HttpExchange exchange, String service, Failure failure) throws IOException {
        exchange.getResponseHeaders().add("x-amzn-RequestId", UUID.randomUUID().toString());
        if ("lambda".equals(service)) {
            exchange.getResponseHeaders().add("x-amzn-ErrorType", failure.type());
            respond(exchange, failure.status(), "application/json", json.createObjectNode()
                    .put("Type", "User").put("message", failure.message()).toString());
        } else {
            respond(exchange, failure.status(), "application/x-amz-json-1.1", json.createObjectNode()
                    .put("__type", failure.type()).put("message", failure.message()).toString());
        }
    }

    private void respondJson(HttpExchange exchange, int status, JsonNode body) throws IOException {
        exchange.getResponseHeaders().add("x-amzn-RequestId", UUID.randomUUID().toString());
        respond(exchange, status, "application/x-amz-json-1.1", body.toString());
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
    }

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
