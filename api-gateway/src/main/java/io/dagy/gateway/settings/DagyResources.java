package io.dagy.gateway.settings;

import io.dagy.tables.DagyTable;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The AWS resources this node uses, resolved and validated.
 *
 * @param tables          the physical name of every table
 * @param artifactBucket  the S3 bucket for artifacts and task logs
 * @param eventsQueueUrl  the SQS queue through which backends report
 */
public record DagyResources(Map<DagyTable, String> tables, String artifactBucket, URI eventsQueueUrl) {

    private static final Pattern TABLE_NAME = Pattern.compile("[a-zA-Z0-9_.-]{3,255}");
    private static final Pattern BUCKET_NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    public DagyResources {
        tables = Collections.unmodifiableMap(new EnumMap<>(tables));
    }

    public String table(DagyTable table) {
        return tables.get(table);
    }

    /**
     * Resolves the names for the aws profile: every table, the bucket and the queue URL must be set explicitly.
     *
     * @throws InvalidSettingsException naming every missing or invalid variable at once
     */
    public static DagyResources forAws(DagyProperties properties) {
        List<String> problems = new ArrayList<>();
        Map<DagyTable, String> tables = new EnumMap<>(DagyTable.class);
        for (DagyTable table : DagyTable.values()) {
            String name = properties.tables().get(table);
            if (isBlank(name)) {
                problems.add(table.variable() + " is not set (name of the " + table.name().toLowerCase() + " table)");
            } else if (!TABLE_NAME.matcher(name).matches()) {
                problems.add(table.variable() + " is not a valid DynamoDB table name: '" + name + "'");
            } else {
                tables.put(table, name);
            }
        }
        String bucket = properties.artifactBucket();
        if (isBlank(bucket)) {
            problems.add("DAGY_ARTIFACT_BUCKET is not set (S3 bucket for artifacts and logs)");
        } else if (!BUCKET_NAME.matcher(bucket).matches()) {
            problems.add("DAGY_ARTIFACT_BUCKET is not a valid S3 bucket name: '" + bucket + "'");
        }
        URI queueUrl = null;
        String queue = properties.eventsQueueUrl();
        if (isBlank(queue)) {
            problems.add("DAGY_EVENTS_QUEUE_URL is not set (SQS queue URL for task events)");
        } else {
            queueUrl = parseQueueUrl(queue, problems);
        }
        if (!problems.isEmpty()) {
            throw new InvalidSettingsException("aws", problems);
        }
        return new DagyResources(tables, bucket, queueUrl);
    }

    /** The names of the local profile: whatever is set, else {@code dagy-<name>-<environment>}. */
    public static Map<DagyTable, String> localTableNames(DagyProperties properties) {
        Map<DagyTable, String> tables = new EnumMap<>(DagyTable.class);
        for (DagyTable table : DagyTable.values()) {
            String name = properties.tables().get(table);
            tables.put(table, isBlank(name) ? table.defaultName(properties.environment()) : name);
        }
        return tables;
    }

    public static String localBucketName(DagyProperties properties) {
        return isBlank(properties.artifactBucket()) ? "dagy-artifacts-" + properties.environment() : properties.artifactBucket();
    }

    private static URI parseQueueUrl(String value, List<String> problems) {
        try {
            URI uri = URI.create(value);
            if (("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) && uri.getHost() != null
                    && uri.getPath() != null && uri.getPath().length() > 1) {
                return uri;
            }
        } catch (IllegalArgumentException ignored) {
            // reported below
        }
        problems.add("DAGY_EVENTS_QUEUE_URL is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>): '"
                + value + "'");
        return null;
    }

    private static boolean isBlank(String value) {
        return value == null || value.isBlank();
    }
}
