package io.dagy.localstack;

import java.nio.file.Path;

/**
 * How to start the {@link LocalStack}.
 *
 * @param dataDirectory where DynamoDB Local and S3Proxy keep their files; ignored when {@code inMemory}
 * @param inMemory      keep everything in memory, for throwaway runs and tests
 * @param dynamoDbPort  port on 127.0.0.1, or 0 for any free port (likewise the others)
 */
public record LocalStackOptions(Path dataDirectory, boolean inMemory, int dynamoDbPort, int sqsPort, int s3Port) {

    public LocalStackOptions {
        if (!inMemory && dataDirectory == null) {
            throw new IllegalArgumentException("an on-disk local stack needs a data directory");
        }
        requirePort(dynamoDbPort, "DynamoDB");
        requirePort(sqsPort, "SQS");
        requirePort(s3Port, "S3");
    }

    /** Everything in memory on free ports: what tests use. */
    public static LocalStackOptions inMemoryOnFreePorts() {
        return new LocalStackOptions(null, true, 0, 0, 0);
    }

    private static void requirePort(int port, String server) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException(server + " port out of range: " + port);
        }
    }
}
