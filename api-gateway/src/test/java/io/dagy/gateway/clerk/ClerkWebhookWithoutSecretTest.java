package io.dagy.gateway.clerk;

import io.dagy.gateway.DagyApplication;
import io.dagy.testendpoints.TestEndpoints;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.json.JsonMapper;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** The test profile sets no DAGY_CLERK_WEBHOOK_SECRET (same context as ProblemResponsesTest, so it is shared). */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
@Import(TestEndpoints.class)
class ClerkWebhookWithoutSecretTest {

    @LocalServerPort
    int port;

    @Autowired
    JsonMapper json;

    @Test
    void withoutAConfiguredSecretEveryDeliveryIsRefused() throws Exception {
        String id = "msg_unconfigured";
        String timestamp = Long.toString(Instant.now().getEpochSecond());
        String body = "{\"type\": \"user.created\", \"data\": {\"id\": \"user_unconfigured\", \"updated_at\": 1}}";
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("any key at all".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String signature = "v1," + Base64.getEncoder().encodeToString(
                mac.doFinal((id + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));

        var response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/webhooks/clerk"))
                .header("Content-Type", "application/json")
                .header("svix-id", id).header("svix-timestamp", timestamp).header("svix-signature", signature)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(json.readTree(response.body()).get("code").asString()).isEqualTo("invalid_signature");
        assertThat(json.readTree(response.body()).get("detail").asString()).contains("DAGY_CLERK_WEBHOOK_SECRET");
    }
}
