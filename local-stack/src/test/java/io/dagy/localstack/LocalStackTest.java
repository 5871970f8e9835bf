package io.dagy.localstack;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LocalStackTest {

    @Test
    void theSharedStackServesDynamoDbSqsAndS3OnLoopback() {
        LocalStack stack = SharedLocalStack.get();
        assertThat(stack.dynamoDbEndpoint().getHost()).isEqualTo("127.0.0.1");
        assertThat(stack.sqsEndpoint().getHost()).isEqualTo("127.0.0.1");
        assertThat(stack.s3Endpoint().getHost()).isEqualTo("127.0.0.1");

        try (DynamoDbClient dynamoDb = LocalAwsClients.dynamoDb(stack.dynamoDbEndpoint());
             SqsClient sqs = LocalAwsClients.sqs(stack.sqsEndpoint());
             S3Client s3 = LocalAwsClients.s3(stack.s3Endpoint())) {
            createTable(dynamoDb, "shared-stack-probe");
            dynamoDb.putItem(b -> b.tableName("shared-stack-probe").item(Map.of("pk", AttributeValue.fromS("a"))));
            assertThat(dynamoDb.getItem(b -> b.tableName("shared-stack-probe").key(Map.of("pk", AttributeValue.fromS("a"))))
                    .hasItem()).isTrue();

            String queueUrl = sqs.createQueue(b -> b.queueName("shared-stack-probe")).queueUrl();
            sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody("hello"));
            assertThat(sqs.receiveMessage(b -> b.queueUrl(queueUrl).waitTimeSeconds(2)).messages())
                    .singleElement().satisfies(m -> assertThat(m.body()).isEqualTo("hello"));

            s3.createBucket(b -> b.bucket("shared-stack-probe"));
            s3.putObject(b -> b.bucket("shared-stack-probe").key("k"), RequestBody.fromString("body"));
            assertThat(s3.getObjectAsBytes(b -> b.bucket("shared-stack-probe").key("k")).asUtf8String()).isEqualTo("body");
        }
    }

    @Test
    void anOnDiskStackKeepsTablesAndObjectsAcrossARestart(@TempDir Path dataDir) {
        LocalStackOptions options = new LocalStackOptions(dataDir, false, 0, 0, 0);
        try (LocalStack first = LocalStack.start(options);
             DynamoDbClient dynamoDb = LocalAwsClients.dynamoDb(first.dynamoDbEndpoint());
             S3Client s3 = LocalAwsClients.s3(first.s3Endpoint())) {
            createTable(dynamoDb, "kept");
            dynamoDb.putItem(b -> b.tableName("kept").item(Map.of("pk", AttributeValue.fromS("survivor"))));
            s3.createBucket(b -> b.bucket("kept"));
            s3.putObject(b -> b.bucket("kept").key("log.txt"), RequestBody.fromString("still here"));
        }

        try (LocalStack second = LocalStack.start(options);
             DynamoDbClient dynamoDb = LocalAwsClients.dynamoDb(second.dynamoDbEndpoint());
             S3Client s3 = LocalAwsClients.s3(second.s3Endpoint())) {
            assertThat(dynamoDb.getItem(b -> b.tableName("kept").key(Map.of("pk", AttributeValue.fromS("survivor"))))
                    .hasItem()).isTrue();
            assertThat(s3.getObjectAsBytes(b -> b.bucket("kept").key("log.txt")).asUtf8String()).isEqualTo("still here");
        }
    }

    /** A rollback journal syncs the disk about four times per write request, the write-ahead log once. */
    @Test
    void anOnDiskStackKeepsDynamoDbInWriteAheadLogMode(@TempDir Path dataDir) {
        try (LocalStack stack = LocalStack.start(new LocalStackOptions(dataDir, false, 0, 0, 0));
             DynamoDbClient dynamoDb = LocalAwsClients.dynamoDb(stack.dynamoDbEndpoint())) {
            createTable(dynamoDb, "journaled");
            dynamoDb.putItem(b -> b.tableName("journaled").item(Map.of("pk", AttributeValue.fromS("written"))));

            assertThat(DynamoDbJournal.mode(dataDir.resolve("dynamodb"))).isEqualTo("wal");
            assertThat(dataDir.resolve("dynamodb").resolve(DynamoDbJournal.SHARED_DB_FILE + "-wal")).exists();
        }
    }

    @Test
    void aClosedStackNoLongerListens() {
        LocalStack stack = LocalStack.start(LocalStackOptions.inMemoryOnFreePorts());
        int port = stack.dynamoDbEndpoint().getPort();
        assertThat(accepts(port)).isTrue();

        stack.close();

        assertThat(accepts(port)).isFalse();
    }

    @Test
    void anOnDiskStackNeedsADataDirectory() {
        assertThatThrownBy(() -> new LocalStackOptions(null, false, 0, 0, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("data directory");
    }

    private static void createTable(DynamoDbClient dynamoDb, String name) {
        dynamoDb.createTable(b -> b.tableName(name)
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(AttributeDefinition.builder().attributeName("pk").attributeType(ScalarAttributeType.S).build())
                .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build()));
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
