package io.dagy.gateway.aws;

import io.dagy.gateway.settings.DagyProperties;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.TableBootstrap;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.net.URI;
import java.util.Map;

/** Creates, on the embedded stack, whatever tables, queues and bucket do not exist yet. */
final class LocalResources {

    /** Receives before a report moves to the dead-letter queue; the same value the CDK app sets on AWS. */
    static final int MAX_RECEIVES_BEFORE_DEAD_LETTER = 5;

    private final DynamoDbClient dynamoDb;
    private final SqsClient sqs;
    private final S3Client s3;

    LocalResources(DynamoDbClient dynamoDb, SqsClient sqs, S3Client s3) {
        this.dynamoDb = dynamoDb;
        this.sqs = sqs;
        this.s3 = s3;
    }

    DagyResources createMissing(DagyProperties properties) {
        var tables = DagyResources.localTableNames(properties);
        new TableBootstrap(dynamoDb).createMissing(tables);
        String bucket = DagyResources.localBucketName(properties);
        createBucketIfMissing(bucket);
        URI queueUrl = createEventsQueue("dagy-events-" + properties.environment());
        return new DagyResources(tables, bucket, queueUrl);
    }

    private void createBucketIfMissing(String bucket) {
        try {
            s3.headBucket(b -> b.bucket(bucket));
        } catch (NoSuchBucketException missing) {
            try {
                s3.createBucket(b -> b.bucket(bucket));
            } catch (BucketAlreadyOwnedByYouException raced) {
                // created concurrently: fine
            }
        }
    }

    /** CreateQueue is idempotent for identical attributes, so this runs at every start. */
    private URI createEventsQueue(String name) {
        String deadLetterUrl = sqs.createQueue(b -> b.queueName(name + "-dlq")).queueUrl();
        String deadLetterArn = sqs.getQueueAttributes(b -> b.queueUrl(deadLetterUrl)
                .attributeNames(QueueAttributeName.QUEUE_ARN)).attributes().get(QueueAttributeName.QUEUE_ARN);
        String redrivePolicy = "{\"deadLetterTargetArn\":\"" + deadLetterArn + "\",\"maxReceiveCount\":\""
                + MAX_RECEIVES_BEFORE_DEAD_LETTER + "\"}";
        String url = sqs.createQueue(b -> b.queueName(name)).queueUrl();
        sqs.setQueueAttributes(b -> b.queueUrl(url).attributes(Map.of(QueueAttributeName.REDRIVE_POLICY, redrivePolicy)));
        return URI.create(url);
    }
}
