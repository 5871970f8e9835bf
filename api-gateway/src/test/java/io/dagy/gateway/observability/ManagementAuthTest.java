package io.dagy.gateway.observability;

import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.security.LocalOwnerKey;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.test.context.ActiveProfiles;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static io.dagy.gateway.support.ApiCalls.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * With a metrics token, the management endpoints answer only its bearer (an API key, even the owner's, is not it);
 * without one, the aws profile refuses everyone and the local profile (loopback only) no one.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "dagy.observability.metrics-token=test-scrape-token")
@ActiveProfiles({"local", "test"})
class ManagementAuthTest {

    @LocalManagementPort
    int managementPort;

    @Autowired
    LocalOwnerKey ownerKey;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theMetricsTokenOpensThePrometheusEndpointAndNothingElseDoes() throws Exception {
        assertThat(scrape("Bearer test-scrape-token").statusCode()).isEqualTo(200);
        assertProblem(scrape(null), 401, "unauthenticated");
        assertProblem(scrape("Bearer test-scrape-token-but-longer"), 401, "unauthenticated");
        assertProblem(scrape("Bearer " + ownerKey.key()), 401, "unauthenticated");
    }

    @Test
    void withoutATokenTheAwsProfileRefusesEveryoneAndTheLocalProfileNoOne() {
        ObservabilityProperties none = new ObservabilityProperties(null, false, "Dagy", "api", null, 1.0);
        assertThat(ManagementSecurity.allowed(null, none, true)).isFalse();
        assertThat(ManagementSecurity.allowed("Bearer anything", none, true)).isFalse();
        assertThat(ManagementSecurity.allowed(null, none, false)).isTrue();
        ObservabilityProperties token = new ObservabilityProperties("s3cret", false, "Dagy", "api", null, 1.0);
        assertThat(ManagementSecurity.allowed("Bearer s3cret", token, true)).isTrue();
        assertThat(ManagementSecurity.allowed("bearer s3cret", token, true)).isTrue();
        assertThat(ManagementSecurity.allowed("Bearer s3cre", token, true)).isFalse();
        assertThat(ManagementSecurity.allowed(null, token, false)).isFalse();
    }

    private HttpResponse<String> scrape(String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + managementPort + "/actuator/prometheus"));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
