package io.dagy.gateway.billing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local stand-in for the Stripe API (JDK HTTP server on 127.0.0.1), not Stripe: it records every request
 * stripe-java sends (method, path, form parameters, {@code Idempotency-Key}, {@code Authorization}) and answers the
 * three calls Dagy makes with the shapes Stripe documents. Meter events are kept once per {@code identifier}, as
 * Stripe enforces; {@link #failNext} makes the next calls answer 500.
 */
final class StripeStandIn implements AutoCloseable {

    record Request(String method, String path, Map<String, String> form, String idempotencyKey, String authorization) {
    }

    private final HttpServer server;
    final List<Request> requests = new CopyOnWriteArrayList<>();
    /** identifier → value of the meter events Stripe would bill (the first of each identifier). */
    final Map<String, Long> billed = new ConcurrentHashMap<>();
    private final AtomicInteger failures = new AtomicInteger();
    private final AtomicInteger sessions = new AtomicInteger();

    StripeStandIn() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void failNext(int calls) {
        failures.set(calls);
    }

    Request last(String path) {
        List<Request> to = to(path);
        return to.get(to.size() - 1);
    }

    List<Request> to(String path) {
        return requests.stream().filter(r -> r.path().equals(path)).toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        Map<String, String> form = parse(body);
        String path = exchange.getRequestURI().getPath();
        requests.add(new Request(exchange.getRequestMethod(), path, form,
                exchange.getRequestHeaders().getFirst("Idempotency-Key"),
                exchange.getRequestHeaders().getFirst("Authorization")));
        if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            answer(exchange, 500, "{\"error\": {\"type\": \"api_error\", \"message\": \"stand-in failure\"}}");
            return;
        }
        switch (path) {
            case "/v1/billing/meter_events" -> {
                billed.putIfAbsent(form.get("identifier"), Long.parseLong(form.get("payload[value]")));
                answer(exchange, 200, "{\"object\": \"billing.meter_event\", \"created\": 1764460800, \"event_name\": \""
                        + form.get("event_name") + "\", \"identifier\": \"" + form.get("identifier")
                        + "\", \"livemode\": false, \"payload\": {\"stripe_customer_id\": \""
                        + form.get("payload[stripe_customer_id]") + "\", \"value\": \"" + form.get("payload[value]")
                        + "\"}, \"timestamp\": " + form.get("timestamp") + "}");
            }
            case "/v1/checkout/sessions" -> {
                String id = "cs_test_" + sessions.incrementAndGet();
                answer(exchange, 200, "{\"id\": \"" + id + "\", \"object\": \"checkout.session\", \"mode\": \"subscription\","
                        + " \"url\": \"https://checkout.stripe.test/c/pay/" + id + "\"}");
            }
            case "/v1/billing_portal/sessions" -> {
                String id = "bps_test_" + sessions.incrementAndGet();
                answer(exchange, 200, "{\"id\": \"" + id + "\", \"object\": \"billing_portal.session\","
                        + " \"customer\": \"" + form.get("customer") + "\", \"url\": \"https://billing.stripe.test/p/session/"
                        + id + "\"}");
            }
            default -> answer(exchange, 404, "{\"error\": {\"type\": \"invalid_request_error\", \"message\": \"Unrecognized request URL\"}}");
        }
    }

    private static void answer(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.getResponseHeaders().add("Request-Id", "req_standin");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    private static Map<String, String> parse(String body) {
        Map<String, String> form = new LinkedHashMap<>();
        if (body.isEmpty()) {
            return form;
        }
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                    URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return form;
    }

    @Override
    public void close() {
        server.stop(0);
    }

    List<Request> all() {
        return new ArrayList<>(requests);
    }
}
