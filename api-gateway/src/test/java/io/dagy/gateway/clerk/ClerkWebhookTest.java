package io.dagy.gateway.clerk;

import io.dagy.gateway.web.WebhookDeliveries;
import io.dagy.gateway.support.MovableClock;
import io.dagy.gateway.support.MovableClockConfiguration;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.projection.user.UserDirectory;
import io.dagy.projection.user.UserDirectory.Status;
import io.dagy.tables.DagyTable;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Clerk's webhook end to end: signed deliveries over HTTP, the User aggregate, the user-directory projection. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "dagy.clerk.webhook-secret=" + ClerkWebhookTest.SECRET)
@ActiveProfiles({"local", "test"})
@Import(MovableClockConfiguration.class)
class ClerkWebhookTest {

    private static final byte[] KEY = "the signing key of this test's webhook".getBytes(StandardCharsets.UTF_8);
    static final String SECRET = "whsec_dGhlIHNpZ25pbmcga2V5IG9mIHRoaXMgdGVzdCdzIHdlYmhvb2s=";

    @LocalServerPort
    int port;

    @Autowired
    MovableClock clock;

    @Autowired
    UserDirectory directory;

    @Autowired
    EventStore eventStore;

    @Autowired
    JsonMapper json;

    @Autowired
    DynamoDbClient dynamoDb;

    @Autowired
    DagyResources resources;

    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void resetClock() {
        clock.reset();
    }

    @Test
    void theTestSecretEncodesTheTestKey() {
        assertThat(Base64.getDecoder().decode(SECRET.substring("whsec_".length()))).isEqualTo(KEY);
    }

    @Test
    void aSignedUserCreatedDeliveryRegistersAnActiveUser() throws Exception {
        String user = newUserId();

        var response = deliver(newMessageId(), created(user, "ada@example.org", 1000));

        assertThat(response.statusCode()).isEqualTo(204);
        awaitStatus(user, Status.ACTIVE);
        var view = directory.find(user).orElseThrow();
        assertThat(view.primaryEmail()).isEqualTo("ada@example.org");
        assertThat(view.name()).isEqualTo("Ada Lovelace");
        assertThat(view.deleted()).isFalse();
    }

    @Test
    void aUserDeletedDeliveryMarksTheUserInactiveAndDropsTheirEmailAndName() throws Exception {
        String user = newUserId();
        deliver(newMessageId(), created(user, "ada@example.org", 1000));
        awaitStatus(user, Status.ACTIVE);

        var response = deliver(newMessageId(), deleted(user));

        assertThat(response.statusCode()).isEqualTo(204);
        awaitStatus(user, Status.DELETED);
        assertThat(directory.isActive(user)).isFalse();
        var view = directory.find(user).orElseThrow();
        assertThat(view.deleted()).isTrue();
        assertThat(view.primaryEmail()).isNull();
        assertThat(view.name()).isNull();
    }

    @Test
    void aTamperedBodyIsRefusedAsAnInvalidSignatureAndChangesNothing() throws Exception {
        String user = newUserId();
        String other = newUserId();
        String id = newMessageId();
        String timestamp = now();
        String signature = sign(KEY, id, timestamp, created(user, "ada@example.org", 1000));

        var response = post(id, timestamp, signature, created(other, "ada@example.org", 1000));

        assertProblem(response, 401, "invalid_signature");
        assertThat(eventsOf(user)).isZero();
        assertThat(eventsOf(other)).isZero();
    }

    @Test
    void aDeliveryOlderThanFiveMinutesIsRefused() throws Exception {
        String user = newUserId();
        String id = newMessageId();
        String timestamp = now();
        String body = created(user, "ada@example.org", 1000);
        String signature = sign(KEY, id, timestamp, body);
        clock.moveBy(Duration.ofMinutes(5).plusSeconds(2));

        var response = post(id, timestamp, signature, body);

        assertProblem(response, 401, "invalid_signature");
        assertThat(eventsOf(user)).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"svix-id", "svix-timestamp", "svix-signature"})
    void aDeliveryWithoutASignatureHeaderIsRefused(String missing) throws Exception {
        String user = newUserId();
        String id = newMessageId();
        String timestamp = now();
        String body = created(user, "ada@example.org", 1000);
        Map<String, String> headers = new LinkedHashMap<>(Map.of("svix-id", id, "svix-timestamp", timestamp,
                "svix-signature", sign(KEY, id, timestamp, body)));
        headers.remove(missing);

        var response = post(headers, body);

        assertProblem(response, 401, "invalid_signature");
        assertThat(eventsOf(user)).isZero();
    }

    @Test
    void aDeliverySignedWithAnotherSecretIsRefused() throws Exception {
        String user = newUserId();
        String id = newMessageId();
        String timestamp = now();
        String body = created(user, "ada@example.org", 1000);
        byte[] otherKey = "another endpoint's signing key".getBytes(StandardCharsets.UTF_8);

        var response = post(id, timestamp, sign(otherKey, id, timestamp, body), body);

        assertProblem(response, 401, "invalid_signature");
        assertThat(eventsOf(user)).isZero();
    }

    @Test
    void aReplayedSvixIdIsAcknowledgedButNeverProcessedAgain() throws Exception {
        String user = newUserId();
        String other = newUserId();
        String id = newMessageId();
        assertThat(deliver(id, created(user, "ada@example.org", 1000)).statusCode()).isEqualTo(204);

        // the same message again, and a (validly signed) different body under the same id: both are replays
        var again = deliver(id, created(user, "ada@example.org", 1000));
        var differentBody = deliver(id, created(other, "grace@example.org", 1000));

        assertThat(again.statusCode()).isEqualTo(204);
        assertThat(differentBody.statusCode()).isEqualTo(204);
        assertThat(eventsOf(user)).isEqualTo(1);
        assertThat(eventsOf(other)).isZero();
    }

    @Test
    void aSvixIdRecordedByOneNodeIsSeenByAnotherAndRecordingItTwiceIsNoError() {
        String id = newMessageId();
        var oneNode = new WebhookDeliveries(dynamoDb, resources.table(DagyTable.USERS), ClerkConfiguration.DELIVERY_PREFIX, clock);
        var otherNode = new WebhookDeliveries(dynamoDb, resources.table(DagyTable.USERS), ClerkConfiguration.DELIVERY_PREFIX, clock);

        oneNode.record(id, "user.created");
        otherNode.record(id, "user.created");

        assertThat(otherNode.processed(id)).isTrue();
        assertThat(oneNode.processed(newMessageId())).isFalse();
    }

    @Test
    void aRedeliveryThatWasNeverRecordedChangesNothing() throws Exception {
        // what the provider's retry does after a crash between running the command and recording the svix-id
        String user = newUserId();
        String body = created(user, "ada@example.org", 1000);

        var first = deliver(newMessageId(), body);
        var retry = deliver(newMessageId(), body);

        assertThat(first.statusCode()).isEqualTo(204);
        assertThat(retry.statusCode()).isEqualTo(204);
        assertThat(eventsOf(user)).isEqualTo(1);
    }

    @Test
    void anUpdateDeliveredAfterANewerOneIsIgnored() throws Exception {
        String user = newUserId();
        deliver(newMessageId(), created(user, "ada@example.org", 1000));
        deliver(newMessageId(), updated(user, "ada@engine.example", 3000));

        var late = deliver(newMessageId(), updated(user, "ada@old.example", 2000));

        assertThat(late.statusCode()).isEqualTo(204);
        assertThat(eventsOf(user)).isEqualTo(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> directory.find(user)
                .map(view -> "ada@engine.example".equals(view.primaryEmail())).orElse(false));
    }

    @Test
    void aUserCreatedDeliveredAfterTheUserDeletedDoesNotBringTheUserBack() throws Exception {
        String user = newUserId();
        deliver(newMessageId(), deleted(user));

        var late = deliver(newMessageId(), created(user, "ada@example.org", 1000));

        assertThat(late.statusCode()).isEqualTo(204);
        assertThat(eventsOf(user)).isEqualTo(1);
        awaitStatus(user, Status.DELETED);
    }

    @Test
    void aMalformedBodyWithAValidSignatureIsAMalformedRequestProblem() throws Exception {
        var response = deliver(newMessageId(), "{\"type\": \"user.created\", \"data\": {\"id\": \"secret-value\"");

        assertProblem(response, 400, "malformed_request");
        assertThat(response.body()).doesNotContain("secret-value");
    }

    @Test
    void aUserEventWithoutAValidUserIdIsAValidationProblem() throws Exception {
        var response = deliver(newMessageId(), created("usr-not-clerk", "ada@example.org", 1000));

        assertProblem(response, 400, "validation_failed");
    }

    @Test
    void anUnsupportedEventTypeIsAcknowledgedAndIgnored() throws Exception {
        String user = newUserId();
        String body = created(user, "ada@example.org", 1000).replace("user.created", "session.created");

        var response = deliver(newMessageId(), body);

        assertThat(response.statusCode()).isEqualTo(204);
        assertThat(eventsOf(user)).isZero();
    }

    @Test
    void aBodyLargerThanAnyClerkEventIsRefusedAsTooLarge() throws Exception {
        String body = "{\"type\": \"user.created\", \"padding\": \"" + "x".repeat(300 * 1024) + "\"}";

        var response = deliver(newMessageId(), body);

        assertProblem(response, 413, "payload_too_large");
    }

    // --- deliveries as Clerk sends them

    private static String newUserId() {
        return "user_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }

    private static String newMessageId() {
        return "msg_" + UUID.randomUUID().toString().replace("-", "");
    }

    private String now() {
        return Long.toString(clock.instant().getEpochSecond());
    }

    /** A Clerk user.created event (trimmed to the fields Dagy reads plus a few it must ignore). */
    private static String created(String user, String email, long updatedAtMillis) {
        return userEvent("user.created", user, email, updatedAtMillis);
    }

    private static String updated(String user, String email, long updatedAtMillis) {
        return userEvent("user.updated", user, email, updatedAtMillis);
    }

    private static String userEvent(String type, String user, String email, long updatedAtMillis) {
        return """
                {"data": {"id": "%s", "object": "user", "first_name": "Ada", "last_name": "Lovelace",
                  "primary_email_address_id": "idn_primary",
                  "email_addresses": [{"id": "idn_other", "email_address": "other@example.org"},
                                      {"id": "idn_primary", "email_address": "%s"}],
                  "phone_numbers": [{"id": "idn_phone", "phone_number": "+15555550100"}],
                  "private_metadata": {"note": "never stored"},
                  "created_at": 1000, "updated_at": %d},
                 "object": "event", "type": "%s", "timestamp": %d}""".formatted(user, email, updatedAtMillis, type,
                updatedAtMillis);
    }

    private static String deleted(String user) {
        return """
                {"data": {"deleted": true, "id": "%s", "object": "user"}, "object": "event", "type": "user.deleted",
                 "timestamp": 5000}""".formatted(user);
    }

    /** The HMAC the provider computes, computed here with javax.crypto. */
    private static String sign(byte[] key, String id, String timestamp, String body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        byte[] digest = mac.doFinal((id + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8));
        return "v1," + Base64.getEncoder().encodeToString(digest);
    }

    private HttpResponse<String> deliver(String id, String body) throws Exception {
        String timestamp = now();
        return post(id, timestamp, sign(KEY, id, timestamp, body), body);
    }

    private HttpResponse<String> post(String id, String timestamp, String signature, String body) throws Exception {
        return post(Map.of("svix-id", id, "svix-timestamp", timestamp, "svix-signature", signature), body);
    }

    private HttpResponse<String> post(Map<String, String> headers, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/clerk"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    // --- outcomes

    /** Events of the user's aggregate, read from the event store (commands have run when the response arrives). */
    private long eventsOf(String user) {
        return eventStore.readEvents("user:" + user).asStream().count();
    }

    private void awaitStatus(String user, Status status) {
        await().atMost(Duration.ofSeconds(10)).until(() -> directory.status(user) == status);
    }

    private void assertProblem(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        JsonNode body = json.readTree(response.body());
        assertThat(body.get("code").asString()).isEqualTo(code);
    }
}
