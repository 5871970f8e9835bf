package io.dagy.gateway.health;

import io.dagy.gateway.DagyApplication;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class HealthEndpointTest {

    @LocalServerPort
    int port;

    @Autowired
    tools.jackson.databind.json.JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void healthSaysTheProcessIsUpWithTimestampAndVersion() throws Exception {
        var body = json.readTree(get("/health").body());

        assertThat(body.get("status").asString()).isEqualTo("healthy");
        assertThat(body.get("timestamp").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
        assertThat(body.get("version").asString()).isNotBlank();
    }

    @Test
    void detailedHealthProbesDatabaseS3AndSqsOnTheLocalStack() throws Exception {
        HttpResponse<String> response = get("/health/detailed");
        var body = json.readTree(response.body());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(body.get("status").asString()).isEqualTo("healthy");
        for (String component : new String[] {"database", "s3", "sqs"}) {
            assertThat(body.at("/components/" + component + "/status").asString()).as(component).isEqualTo("healthy");
            assertThat(body.at("/components/" + component + "/latency_ms").isNumber()).as(component).isTrue();
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
