package io.dagy.gateway.web;

import io.dagy.contracts.deployment.DeploymentEvents.DeploymentPublished;
import io.dagy.contracts.deployment.DeploymentEvents.DeploymentSettingsChanged;
import io.dagy.contracts.run.RunEvents.RunCancelling;
import io.dagy.contracts.run.RunEvents.RunRerunStarted;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.gateway.DagyApplication;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A flood of malformed requests on every route, from a fixed seed: each route's well-formed request, then one to
 * three mutations of its method, path, query, headers or body. Every answer must be below 500, every error a problem
 * with a code, and the event store must hold exactly what the accepted requests stored: a refused request stores
 * nothing, not even part of what it asked for.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class HostileFuzzTest {

    private static final long SEED = 0x5EED_2026L;
    private static final int REQUESTS = 400;
    private static final String PREFIX = "fuzz-" + Long.toHexString(SEED);
    private static final String QUEUE = PREFIX + "-queue";

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @LocalServerPort
    int port;

    @Autowired
    JsonMapper json;

    @Autowired
    EventStorageEngine events;

    private final Random random = new Random(SEED);

    /** What the accepted requests asked to store, to compare with what the event store holds afterwards. */
    private final Map<String, Integer> publishedVersions = new HashMap<>();
    private final Map<String, Integer> settingsAccepted = new HashMap<>();
    private final Set<String> runsAccepted = new HashSet<>();
    private final Set<String> cancelsAccepted = new HashSet<>();
    private final Set<String> rerunsAccepted = new HashSet<>();
    private final List<String> runIds = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private String validCursor;

    @Test
    void aFloodOfMalformedRequestsGetsOnlyProblemsAndStoresNothingItRefused() throws Exception {
        setUp();
        for (int i = 0; i < REQUESTS; i++) {
            Request request = routes().get(random.nextInt(routes().size())).get();
            if (random.nextInt(10) > 0) {
                int mutations = 1 + random.nextInt(3);
                for (int m = 0; m < mutations; m++) {
                    mutate(request);
                }
            }
            check(request, send(request));
        }

        assertThat(failures).isEmpty();
        assertStoredOnlyWhatWasAccepted();
    }

    // ---------------------------------------------------------------------------------------------- the routes

    /** A request before it is rendered: every part can be mutated. */
    private static final class Request {
        String method;
        final List<String> path = new ArrayList<>();
        final List<String> query = new ArrayList<>();
        final List<Map.Entry<String, String>> headers = new ArrayList<>();
        JsonNode body;
        String rawBody;
        /** Body fields a mutation must not remove or change (a poll's {@code wait_seconds}: else it waits 10 s). */
        final Set<String> pinned = new HashSet<>();

        Request(String method, String path) {
            this.method = method;
            for (String segment : path.substring(1).split("/")) {
                this.path.add(segment);
            }
        }

        Request query(String parameter) {
            query.add(parameter);
            return this;
        }

        Request json(JsonNode body) {
            this.body = body;
            headers.add(Map.entry("Content-Type", "application/json"));
            return this;
        }

        String target() {
            return "/" + String.join("/", path) + (query.isEmpty() ? "" : "?" + String.join("&", query));
        }
    }

    private List<Supplier<Request>> routes() {
        return List.of(
                () -> new Request("PUT", "/v1/deployments/" + deploymentName()).json(dag()),
                () -> new Request("GET", "/v1/deployments/" + deploymentName()),
                () -> new Request("GET", "/v1/deployments").query("limit=2").query("cursor=" + validCursor),
                () -> new Request("PUT", "/v1/deployments/" + deploymentName() + "/settings").json(settings()),
                () -> {
                    Request start = new Request("POST", "/v1/deployments/" + deploymentName() + "/runs")
                            .json(object("params", object("day", NODES.stringNode("2026-11-22"))));
                    if (random.nextBoolean()) {
                        start.headers.add(Map.entry("Idempotency-Key", "key-" + random.nextInt(5)));
                    }
                    return start;
                },
                () -> new Request("GET", "/v1/runs").query("deployment=" + deploymentName()).query("status=SUCCEEDED")
                        .query("limit=5"),
                () -> new Request("GET", "/v1/runs/" + runId()),
                () -> new Request("POST", "/v1/runs/" + runId() + "/cancel"),
                () -> new Request("POST", "/v1/runs/" + runId() + "/rerun"),
                () -> {
                    Request poll = new Request("POST", "/v1/workers/poll").json(object("queue", NODES.stringNode(QUEUE),
                            "worker_id", NODES.stringNode("w1"), "wait_seconds", NODES.numberNode(0)));
                    poll.pinned.add("wait_seconds");
                    return poll;
                },
                () -> new Request("POST", "/v1/workers/attempts/" + runId() + "/remote/1/"
                        + pick("heartbeat", "complete", "fail")).json(object("worker_id", NODES.stringNode("w1"),
                        "output", object("rows", NODES.numberNode(7)), "error_kind", NODES.stringNode("exit_1"),
                        "message", NODES.stringNode("failed"))),
                () -> new Request("GET", pick("/health", "/error", "/v1/nothing-here", "/v1")));
    }

    private String deploymentName() {
        return PREFIX + "-" + pick("noop", "worker", "other");
    }

    private String runId() {
        return runIds.get(random.nextInt(runIds.size()));
    }

    private JsonNode dag() {
        ObjectNode retry = object("max_attempts", NODES.numberNode(2), "initial_interval", NODES.stringNode("PT1S"),
                "backoff_rate", NODES.numberNode(2.0), "max_delay", NODES.stringNode("PT10S"),
                "jitter", NODES.booleanNode(true), "retry_on", array(NODES.stringNode("*")));
        ObjectNode first = object("id", NODES.stringNode("extract"), "backend", object("type", NODES.stringNode("noop")),
                "retry", retry, "timeouts", object("start_to_close", NODES.stringNode("PT5M")),
                "params", object("table", NODES.stringNode("orders")));
        ObjectNode second = object("id", NODES.stringNode("load"), "backend", object("type", NODES.stringNode("noop")),
                "depends_on", array(NODES.stringNode("extract")), "trigger_rule", NODES.stringNode("all_done"));
        return object("description", NODES.stringNode("fuzzed " + random.nextInt(3)), "tasks", array(first, second));
    }

    private JsonNode settings() {
        return object("execution_mode", NODES.stringNode(pick("small", "micro")),
                "dep_package_slugs", array(NODES.stringNode("pandas")), "tags", object("team", NODES.stringNode("data")));
    }

    // ---------------------------------------------------------------------------------------------- mutations

    private static final String[] HOSTILE_SEGMENTS = {"", "%20", "%20%20", "%09", "%00", "%2F", "a%2Fb", "%5C", "..",
            "%2e%2e", ".", "a;b=c", ";", "%3B", "x".repeat(3_000), "%C3%A9t%C3%A9", "%FF", "%", "%zz", "~", "UPPER",
            "-", "a.b", "a:b", "null", "0", "-1", "99999999999", "%E2%80%AE", "caf\u00e9", "a%0Ab", "*", "{id}"};

    private static final String[] HOSTILE_QUERY = {"cursor=-", "cursor=", "cursor=" + "A".repeat(5_000), "cursor=QUFBQQ",
            "cursor=%00", "cursor=bm90LW91cnM", "limit=abc", "limit=-1", "limit=0", "limit=101", "limit=1e3", "limit=1.5",
            "limit=99999999999", "limit=", "status=", "status=running", "status=NOPE", "status=%00",
            "deployment=Bad%20Name", "deployment=" + "d".repeat(300), "deployment=", "limit=1&limit=2", "cursor", "x=1",
            "%=%", "a=%zz", "deployment=%2F"};

    private static final String[] HOSTILE_TEXT = {"", " ", "x".repeat(100_000), "\u0000", "\u202e", "\ud800", "é",
            "Bad Name", "../..", "a;b=c", "PT-1S", "P1000000000D", "*", "null", "1e309", "<script>", "x".repeat(129)};

    private void mutate(Request request) {
        switch (random.nextInt(6)) {
            case 0 -> request.method = pick("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "FOO", "TRACE",
                    "CONNECT", "get");
            case 1 -> mutatePath(request);
            case 2 -> request.query.add(pick(HOSTILE_QUERY));
            case 3 -> mutateHeaders(request);
            default -> mutateBody(request);
        }
    }

    private void mutatePath(Request request) {
        int segment = random.nextInt(request.path.size());
        switch (random.nextInt(4)) {
            case 0 -> request.path.set(segment, pick(HOSTILE_SEGMENTS));
            case 1 -> request.path.set(segment, request.path.get(segment) + pick(";x=y", ";", "%3Bx", "/", "//", "/.."));
            case 2 -> request.path.add(pick(HOSTILE_SEGMENTS));
            default -> request.path.remove(segment == 0 && request.path.size() == 1 ? 0 : request.path.size() - 1);
        }
    }

    private void mutateHeaders(Request request) {
        switch (random.nextInt(6)) {
            case 0 -> {
                request.headers.removeIf(header -> header.getKey().equals("Content-Type"));
                String type = pick("text/plain", "application/json; charset=ebcdic", "application/xml",
                        "application/json;;;", "*/*", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                        "application/problem+json", "json", "");
                if (!type.isEmpty()) {
                    request.headers.add(Map.entry("Content-Type", type));
                }
            }
            case 1 -> request.headers.add(Map.entry("Accept", pick("text/html", "application/xml", "}}}",
                    "application/json;q=0", "application/problem+json", "*/*", "image/png, text/html;q=0.9")));
            case 2 -> request.headers.add(Map.entry("Idempotency-Key", pick("", " ", "key\u0001", "x".repeat(300), "clé",
                    "ok-key", "key\u007f", "\t")));
            case 3 -> request.headers.add(Map.entry("X-Padding", "p".repeat(pick(100, 9_000, 20_000))));
            case 4 -> request.headers.add(Map.entry(pick("X Bad", "X-Ctl\u0001", "", ":"), "v"));
            default -> request.headers.add(pick(Map.entry("Content-Length", "abc"), Map.entry("Content-Length", "-1"),
                    Map.entry("Content-Length", "1 2"), Map.entry("Transfer-Encoding", "gzip"),
                    Map.entry("Transfer-Encoding", "chunked, gzip"), Map.entry("Expect", "bogus")));
        }
    }

    private void mutateBody(Request request) {
        if (request.body == null) {
            request.rawBody = pick("{}", "not json", "null", "[]", "{\"tasks\": [null]}");
            request.headers.add(Map.entry("Content-Type", "application/json"));
            return;
        }
        switch (random.nextInt(8)) {
            case 0, 1, 2 -> replaceSomeValue(request);
            case 3 -> removeSomeField(request);
            case 4 -> someObject(request.body).ifPresent(object -> object.put(pick("zzz", "max_atempts", "dependson"), 1));
            default -> request.rawBody = rawMutation(json.writeValueAsString(request.body));
        }
    }

    private String rawMutation(String body) {
        return switch (random.nextInt(7)) {
            case 6 -> body.replaceFirst(":\"", ":\"\\\\ud800");
            case 0 -> body.substring(0, random.nextInt(body.length()));
            case 1 -> body + pick(" {}", "garbage", "]", "\u0000");
            case 2 -> body.replaceFirst("\\{\"(\\w+)\":", "{\"$1\": 0, \"$1\":");
            case 3 -> pick("", "null", "[]", "\"text\"", "{", "{\"tasks\": [null]}", "\u00ff\u00fe");
            case 4 -> "[".repeat(2_000) + "]".repeat(2_000);
            default -> body.replace("\"", "'");
        };
    }

    private void replaceSomeValue(Request request) {
        List<Map.Entry<JsonNode, String>> slots = new ArrayList<>();
        collectSlots(request.body, request.pinned, slots);
        if (slots.isEmpty()) {
            return;
        }
        Map.Entry<JsonNode, String> slot = slots.get(random.nextInt(slots.size()));
        JsonNode value = hostileValue();
        if (slot.getKey() instanceof ObjectNode object) {
            object.set(slot.getValue(), value);
        } else if (slot.getKey() instanceof ArrayNode array) {
            array.set(Integer.parseInt(slot.getValue()), value);
        }
    }

    private void removeSomeField(Request request) {
        List<Map.Entry<JsonNode, String>> slots = new ArrayList<>();
        collectSlots(request.body, request.pinned, slots);
        slots.removeIf(slot -> !(slot.getKey() instanceof ObjectNode));
        if (!slots.isEmpty()) {
            Map.Entry<JsonNode, String> slot = slots.get(random.nextInt(slots.size()));
            ((ObjectNode) slot.getKey()).remove(slot.getValue());
        }
    }

    /** Every (container, field name or index) of the tree, except pinned fields. */
    private static void collectSlots(JsonNode node, Set<String> pinned, List<Map.Entry<JsonNode, String>> slots) {
        if (node instanceof ObjectNode object) {
            for (String name : object.propertyNames()) {
                if (!pinned.contains(name)) {
                    slots.add(Map.entry(object, name));
                    collectSlots(object.get(name), pinned, slots);
                }
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                slots.add(Map.entry(array, Integer.toString(i)));
                collectSlots(array.get(i), pinned, slots);
            }
        }
    }

    private java.util.Optional<ObjectNode> someObject(JsonNode node) {
        List<Map.Entry<JsonNode, String>> slots = new ArrayList<>();
        collectSlots(node, Set.of(), slots);
        List<ObjectNode> objects = new ArrayList<>();
        if (node instanceof ObjectNode root) {
            objects.add(root);
        }
        slots.stream().map(slot -> slot.getKey() instanceof ObjectNode o ? o.get(slot.getValue()) : null)
                .filter(ObjectNode.class::isInstance).map(ObjectNode.class::cast).forEach(objects::add);
        return objects.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(objects.get(random.nextInt(objects.size())));
    }

    private JsonNode hostileValue() {
        return switch (random.nextInt(12)) {
            case 0 -> NODES.nullNode();
            case 1 -> NODES.numberNode(pick(1, -1, 0, Integer.MAX_VALUE));
            case 2 -> NODES.numberNode(pick(2.5, -0.0, 1e308, Double.MIN_VALUE));
            case 3 -> NODES.numberNode(new java.math.BigInteger("9".repeat(40)));
            case 4 -> NODES.booleanNode(random.nextBoolean());
            case 5 -> NODES.arrayNode();
            case 6 -> NODES.objectNode();
            case 7 -> array(NODES.nullNode());
            case 8 -> object("a", NODES.nullNode());
            case 9 -> NODES.stringNode(Integer.toString(random.nextInt(100)));
            default -> NODES.stringNode(pick(HOSTILE_TEXT));
        };
    }

    // ---------------------------------------------------------------------------------------------- checking

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

    /** The one way requests are sent, setup included: with {@link #authHeaders(String)}, as raw HTTP. */
    private RawHttp.Response send(Request request) throws IOException {
        List<Map.Entry<String, String>> headers = new ArrayList<>(authHeaders(request.target()).entrySet());
        headers.addAll(request.headers);
        String body = request.rawBody != null ? request.rawBody
                : request.body != null ? json.writeValueAsString(request.body) : null;
        return new RawHttp(port).send(request.method, request.target(), headers, body);
    }

    private void check(Request request, RawHttp.Response response) {
        String what = request.method + " " + abbreviate(request.target()) + " " + request.headers.stream()
                .map(header -> header.getKey() + ": " + abbreviate(header.getValue())).toList()
                + " -> " + response.status() + " " + abbreviate(response.body());
        if (response.status() >= 500) {
            failures.add("5xx: " + what);
            return;
        }
        if (response.status() >= 400) {
            if (!response.contentType().startsWith("application/problem+json")) {
                failures.add("not a problem: " + what);
            } else if (!request.method.equals("HEAD")) {
                try {
                    JsonNode problem = json.readTree(response.body());
                    if (!problem.path("code").isString() || problem.path("code").asString().isBlank()
                            || problem.path("status").asInt() != response.status()) {
                        failures.add("no code or wrong status: " + what);
                    }
                } catch (RuntimeException unreadable) {
                    failures.add("unreadable problem: " + what);
                }
            }
            return;
        }
        record(request, response);
    }

    /** Notes what an accepted request stored. */
    private void record(Request request, RawHttp.Response response) {
        if (response.body().isBlank() || request.method.equals("HEAD") || !response.contentType().startsWith("application/json")) {
            return;
        }
        JsonNode body = json.readTree(response.body());
        String target = request.target();
        if (request.method.equals("PUT") && target.endsWith("/settings") && response.status() == 200) {
            settingsAccepted.merge(java.net.URLDecoder.decode(request.path.get(2), java.nio.charset.StandardCharsets.UTF_8),
                    1, Integer::sum);
        } else if (request.method.equals("PUT") && body.has("changed")) {
            if (body.get("changed").asBoolean()) {
                publishedVersions.merge(body.get("name").asString(), 1, Integer::sum);
            }
        } else if (request.method.equals("POST") && response.status() == 202 && body.has("run_id")) {
            String runId = body.get("run_id").asString();
            switch (body.get("status").asString()) {
                case "CANCELLING" -> cancelsAccepted.add(runId);
                case "RUNNING" -> {
                    if (target.contains("/rerun")) {
                        rerunsAccepted.add(runId);
                    } else {
                        runsAccepted.add(runId);
                    }
                }
                default -> {
                }
            }
        }
    }

    private void assertStoredOnlyWhatWasAccepted() {
        List<Object> stored = StoredEvents.all(events, Set.of(DeploymentPublished.class, DeploymentSettingsChanged.class,
                RunStarted.class, RunCancelling.class, RunRerunStarted.class));
        Map<String, Integer> published = new HashMap<>();
        Map<String, Integer> settingsChanged = new HashMap<>();
        Set<String> started = new HashSet<>();
        Set<String> cancelled = new HashSet<>();
        Set<String> rerun = new HashSet<>();
        for (Object event : stored) {
            if (event instanceof DeploymentPublished e && ours(e.name().value())) {
                published.merge(e.name().value(), 1, Integer::sum);
            } else if (event instanceof DeploymentSettingsChanged e && ours(e.name().value())) {
                settingsChanged.merge(e.name().value(), 1, Integer::sum);
            } else if (event instanceof RunStarted e && ours(e.deployment().value())) {
                started.add(e.runId().value());
            } else if (event instanceof RunCancelling e && runsAccepted.contains(e.runId().value())) {
                cancelled.add(e.runId().value());
            } else if (event instanceof RunRerunStarted e && runsAccepted.contains(e.runId().value())) {
                rerun.add(e.runId().value());
            }
        }
        assertThat(published).as("versions published").isEqualTo(publishedVersions);
        assertThat(started).as("runs started").isEqualTo(runsAccepted);
        assertThat(settingsAccepted.keySet()).as("settings changed only by accepted requests")
                .containsAll(settingsChanged.keySet());
        settingsChanged.forEach((name, count) -> assertThat(count).isLessThanOrEqualTo(settingsAccepted.get(name)));
        assertThat(cancelsAccepted).as("runs cancelled only by accepted requests").containsAll(cancelled);
        assertThat(rerunsAccepted).as("runs rerun only by accepted requests").containsAll(rerun);
    }

    private static boolean ours(String deployment) {
        return deployment.startsWith(PREFIX);
    }

    // ---------------------------------------------------------------------------------------------- setup

    /** Deployments, runs and a cursor to aim at, made through the same path as the flood. */
    private void setUp() throws IOException {
        publish(PREFIX + "-noop", dag());
        publish(PREFIX + "-worker", object("tasks", array(object("id", NODES.stringNode("remote"),
                "backend", object("type", NODES.stringNode("worker"), "queue", NODES.stringNode(QUEUE))))));
        for (String deployment : List.of(PREFIX + "-noop", PREFIX + "-worker")) {
            Request start = new Request("POST", "/v1/deployments/" + deployment + "/runs").json(object());
            RawHttp.Response response = send(start);
            assertThat(response.status()).as(response.body()).isEqualTo(202);
            record(start, response);
            runIds.add(json.readTree(response.body()).get("run_id").asString());
        }
        RawHttp.Response page = send(new Request("GET", "/v1/deployments").query("limit=1"));
        JsonNode next = json.readTree(page.body()).path("next_cursor");
        validCursor = next.isString() ? next.asString() : "";
    }

    private void publish(String name, JsonNode dag) throws IOException {
        Request request = new Request("PUT", "/v1/deployments/" + name).json(dag);
        RawHttp.Response response = send(request);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        record(request, response);
    }

    // ---------------------------------------------------------------------------------------------- small things

    @SafeVarargs
    private <T> T pick(T... choices) {
        return choices[random.nextInt(choices.length)];
    }

    private static ObjectNode object(Object... namesAndValues) {
        ObjectNode object = NODES.objectNode();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            object.set((String) namesAndValues[i], (JsonNode) namesAndValues[i + 1]);
        }
        return object;
    }

    private static ArrayNode array(JsonNode... values) {
        ArrayNode array = NODES.arrayNode();
        for (JsonNode value : values) {
            array.add(value);
        }
        return array;
    }

    private static String abbreviate(String text) {
        String printable = text.chars().mapToObj(c -> c < 0x20 || c > 0x7E ? String.format("\\u%04x", c)
                : Character.toString(c)).collect(Collectors.joining());
        return printable.length() <= 160 ? printable : printable.substring(0, 160) + "…(" + text.length() + ")";
    }
}
