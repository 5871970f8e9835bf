package io.dagy.gateway;

import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.s3.S3Client;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The local profile keeps its data on disk: what was written before a restart is there after it. */
class LocalRestartTest {

    @Test
    void dataWrittenBeforeARestartIsReadAfterIt(@TempDir Path dataDirectory) {
        Map<String, String> item = Map.of("pk", "run#1", "sk", "run");
        try (ConfigurableApplicationContext first = start(dataDirectory)) {
            DagyResources resources = first.getBean(DagyResources.class);
            first.getBean(DynamoDbClient.class).putItem(b -> b.tableName(resources.table(DagyTable.RUNS))
                    .item(Map.of("pk", AttributeValue.fromS(item.get("pk")), "sk", AttributeValue.fromS(item.get("sk")))));
            first.getBean(S3Client.class).putObject(b -> b.bucket(resources.artifactBucket()).key("runs/1/log.txt"),
                    RequestBody.fromString("task output"));
        }

        try (ConfigurableApplicationContext second = start(dataDirectory)) {
            DagyResources resources = second.getBean(DagyResources.class);
            var read = second.getBean(DynamoDbClient.class).getItem(b -> b.tableName(resources.table(DagyTable.RUNS))
                    .consistentRead(true)
                    .key(Map.of("pk", AttributeValue.fromS(item.get("pk")), "sk", AttributeValue.fromS(item.get("sk")))));
            assertThat(read.hasItem()).isTrue();
            assertThat(second.getBean(S3Client.class).getObjectAsBytes(b -> b.bucket(resources.artifactBucket())
                    .key("runs/1/log.txt")).asUtf8String()).isEqualTo("task output");
        }
    }

    private static ConfigurableApplicationContext start(Path dataDirectory) {
        SpringApplication app = new SpringApplication(DagyApplication.class);
        app.setAdditionalProfiles("local");
        app.setDefaultProperties(Map.of(
                "server.port", "0",
                "dagy.local.data-directory", dataDirectory.toString(),
                "dagy.local.dynamo-db-port", "0",
                "dagy.local.sqs-port", "0",
                "dagy.local.s3-port", "0"));
        return app.run();
    }
}
