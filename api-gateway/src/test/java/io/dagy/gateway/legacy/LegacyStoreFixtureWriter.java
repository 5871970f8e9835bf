package io.dagy.gateway.legacy;

import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.settings.DagyResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.awaitility.Awaitility.await;

/**
 * Wrote {@code legacy-store/before-tenancy.json} with the code of commit 6556283 (the last before organizations):
 * a finished run, and a run waiting for an external worker. Kept to show how the fixture was made; it only runs
 * with {@code -Ddagy.writeLegacyFixture=<file>}.
 */
@EnabledIfSystemProperty(named = "dagy.writeLegacyFixture", matches = ".+")
class LegacyStoreFixtureWriter {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void writeFixture() throws Exception {
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(DagyApplication.class)
                .profiles("local", "test").run("--dagy.environment=legacy-writer")) {
            send(app, "PUT", "/v1/deployments/legacy-done",
                    "{\"tasks\": [{\"id\": \"only\", \"backend\": {\"type\": \"noop\"}}]}");
            send(app, "PUT", "/v1/deployments/legacy-wait", "{\"tasks\": ["
                    + "{\"id\": \"first\", \"backend\": {\"type\": \"noop\"}},"
                    + "{\"id\": \"by-worker\", \"backend\": {\"type\": \"worker\", \"queue\": \"legacy-q\"}, \"depends_on\": [\"first\"]}]}");
            String done = runId(send(app, "POST", "/v1/deployments/legacy-done/runs", "{}"));
            String waiting = runId(send(app, "POST", "/v1/deployments/legacy-wait/runs", "{}"));
            await().atMost(Duration.ofSeconds(30)).until(() -> send(app, "GET", "/v1/runs/" + done, null).contains("\"status\":\"SUCCEEDED\",\"started_at\""));
            await().atMost(Duration.ofSeconds(30)).until(() -> send(app, "GET", "/v1/runs/" + waiting, null).contains("\"task_id\":\"by-worker\",\"status\":\"DISPATCHED\""));
            Thread.sleep(2000); // let every processor commit its token
            DagyResources resources = app.getBean(DagyResources.class);
            String dump = TableDump.dump(app.getBean(DynamoDbClient.class), resources::table);
            Files.writeString(Path.of(System.getProperty("dagy.writeLegacyFixture")), dump);
            System.out.println("finished run " + done + ", waiting run " + waiting);
        }
    }

    private static String runId(String body) {
        return body.replaceAll(".*\"run_id\":\"([^\"]+)\".*", "$1");
    }

    private String send(ConfigurableApplicationContext app, String method, String path, String body) throws Exception {
        String port = app.getBean(Environment.class).getProperty("local.server.port");
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
