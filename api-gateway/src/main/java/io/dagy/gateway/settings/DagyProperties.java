package io.dagy.gateway.settings;

import io.dagy.tables.DagyTable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Dagy's settings as bound from {@code application.yml}, where each one is mapped from its {@code DAGY_*}
 * environment variable. Values are raw here: {@link DagyResources} resolves and validates them per profile.
 *
 * @param environment    {@code DAGY_ENVIRONMENT}: suffix of the default resource names in the local profile
 * @param tables         table names by table, from {@code DAGY_FLOWS}, {@code DAGY_RUNS}, … (blank when unset)
 * @param artifactBucket {@code DAGY_ARTIFACT_BUCKET}
 * @param eventsQueueUrl {@code DAGY_EVENTS_QUEUE_URL}
 * @param local          the embedded stack of the local profile
 * @param eventStore     tuning of the event store, token store, sagas and deadlines
 * @param deadLetters    when a failing event is parked, and how much the dead-letter queues hold
 * @param clerk          the identity provider's webhook (docs/identity-provider.md)
 * @param rateLimit      request limits per API key or client address
 * @param api            browser access to the API (CORS)
 * @param accessLog      the access log written to {@code DAGY_ACCESS_LOGS}
 */
@ConfigurationProperties("dagy")
public record DagyProperties(
        @DefaultValue("local") String environment,
        Map<DagyTable, String> tables,
        String artifactBucket,
        String eventsQueueUrl,
        @DefaultValue Local local,
        @DefaultValue EventStore eventStore,
        @DefaultValue DeadLetters deadLetters,
        @DefaultValue Clerk clerk,
        @DefaultValue RateLimit rateLimit,
        @DefaultValue Api api,
        @DefaultValue AccessLog accessLog) {

    public DagyProperties {
        tables = tables == null ? Map.of() : Map.copyOf(tables);
    }

    /**
     * The embedded AWS stack of the local profile.
     *
     * @param dataDirectory {@code DAGY_LOCAL_DATA_DIR}: where DynamoDB Local and S3Proxy keep their files
     * @param inMemory      {@code DAGY_LOCAL_IN_MEMORY}: keep nothing on disk (throwaway runs)
     * @param sharedStack   reuse the one stack of this JVM instead of starting one per application (tests)
     * @param join          {@code DAGY_LOCAL_JOIN}: use the servers another node of this machine started on the
     *                      configured ports, instead of starting them (several nodes on one local installation)
     */
    public record Local(
            @DefaultValue(".dagy") Path dataDirectory,
            @DefaultValue("false") boolean inMemory,
            @DefaultValue("8000") int dynamoDbPort,
            @DefaultValue("9324") int sqsPort,
            @DefaultValue("9090") int s3Port,
            @DefaultValue("false") boolean sharedStack,
            @DefaultValue("false") boolean join) {
    }

    /**
     * Tuning of Axon's storage on DynamoDB (docs/event-store.md explains each).
     *
     * @param nodeId               {@code DAGY_NODE_ID}: this node's name in token claims and deadline leases;
     *                             blank means host name and process id
     * @param shards               {@code DAGY_EVENT_SHARDS}: position streams; may grow, never shrink
     * @param gapTimeout           {@code DAGY_EVENT_GAP_TIMEOUT}: wait before a reader fences a reserved position
     * @param snapshotThreshold    {@code DAGY_SNAPSHOT_THRESHOLD}: events after which an aggregate is snapshotted
     * @param claimTimeout         {@code DAGY_TOKEN_CLAIM_TIMEOUT}: a processor claim not extended this long expires
     * @param pollInterval         {@code DAGY_EVENT_POLL_INTERVAL}: how often processors look for events of other nodes
     * @param idleReadInterval     {@code DAGY_EVENT_IDLE_READ_INTERVAL}: how often, once the store has been quiet for
     *                             twice this, processors look for other nodes' events (this node's wake them at once);
     *                             zero reads every poll interval
     * @param deadlinePollInterval {@code DAGY_DEADLINE_POLL_INTERVAL}: how often every deadline shard is swept (other
     *                             and dead nodes' deadlines; this node's own fire on time)
     * @param deadlineMaxAttempts  {@code DAGY_DEADLINE_MAX_ATTEMPTS}: firings of a deadline whose handler keeps failing
     *                             before it is parked
     * @param deadlineRetryBackoff {@code DAGY_DEADLINE_RETRY_BACKOFF}: wait before a failed deadline fires again,
     *                             doubling each time, at most its lease
     * @param processorSegments    {@code DAGY_PROCESSOR_SEGMENTS}: segments a new processor starts with (the most
     *                             nodes that can share its work)
     * @param processorIdleWait    {@code DAGY_PROCESSOR_IDLE_WAIT}: how long an idle processor waits before it looks
     *                             for new events and unclaimed segments again (this node's own events wake it at once)
     * @param processorBatchSize   {@code DAGY_PROCESSOR_BATCH_SIZE}: events a processor handles in one unit of work
     *                             when it is behind, sharing one token write and one DynamoDB transaction
     * @param segmentBalanceInterval {@code DAGY_SEGMENT_BALANCE_INTERVAL}: how often a node announces itself and gives
     *                             up the segments it holds beyond its share among the live nodes
     */
    public record EventStore(
            String nodeId,
            @DefaultValue("4") int shards,
            @DefaultValue("2s") java.time.Duration gapTimeout,
            @DefaultValue("100") int snapshotThreshold,
            @DefaultValue("10s") java.time.Duration claimTimeout,
            @DefaultValue("100ms") java.time.Duration pollInterval,
            @DefaultValue("1s") java.time.Duration idleReadInterval,
            @DefaultValue("10s") java.time.Duration deadlinePollInterval,
            @DefaultValue("5") int deadlineMaxAttempts,
            @DefaultValue("1s") java.time.Duration deadlineRetryBackoff,
            @DefaultValue("4") int processorSegments,
            @DefaultValue("5s") java.time.Duration processorIdleWait,
            @DefaultValue("16") int processorBatchSize,
            @DefaultValue("10s") java.time.Duration segmentBalanceInterval) {
    }

    /**
     * Dead letters: events whose handlers keep failing, parked with their sequence (docs/event-store.md).
     *
     * @param attempts        {@code DAGY_DEAD_LETTER_ATTEMPTS}: how often an event is handled (the segment retrying
     *                        with back-off in between) before it is parked; 1 parks at the first failure
     * @param maxSequences    {@code DAGY_DEAD_LETTER_MAX_SEQUENCES}: parked sequences per processor; beyond, a failing
     *                        event stops its segment as before dead letters
     * @param maxSequenceSize {@code DAGY_DEAD_LETTER_MAX_SEQUENCE_SIZE}: letters per parked sequence
     */
    public record DeadLetters(
            @DefaultValue("3") int attempts,
            @DefaultValue("1024") int maxSequences,
            @DefaultValue("50000") int maxSequenceSize) {

        public DeadLetters {
            if (attempts < 1 || maxSequences < 1 || maxSequenceSize < 1) {
                throw new IllegalArgumentException("DAGY_DEAD_LETTER_ATTEMPTS, DAGY_DEAD_LETTER_MAX_SEQUENCES and "
                        + "DAGY_DEAD_LETTER_MAX_SEQUENCE_SIZE must be at least 1, not " + attempts + ", "
                        + maxSequences + " and " + maxSequenceSize);
            }
        }
    }

    /**
     * The identity provider (Clerk) and its webhook.
     *
     * @param webhookSecret {@code DAGY_CLERK_WEBHOOK_SECRET}: the endpoint's signing secret, {@code whsec_<base64>};
     *                      blank means {@code POST /webhooks/clerk} refuses every delivery
     */
    public record Clerk(String webhookSecret) {

        /** Never prints the secret (settings get logged). */
        @Override
        public String toString() {
            return "Clerk[webhookSecret=" + (webhookSecret == null || webhookSecret.isBlank() ? "unset" : "***") + "]";
        }
    }

    /**
     * Request limits, shared by every node through {@code DAGY_RATE_LIMITS} (docs/rate-limits-and-edge.md).
     *
     * @param enabled   {@code DAGY_RATE_LIMIT_ENABLED}: off only where nothing else may be slowed down (tests,
     *                  benchmarks); every request then skips the two DynamoDB calls the limit costs
     * @param perMinute {@code DAGY_RATE_LIMIT_PER_MINUTE}: requests per minute per API key or client address, refilled
     *                  continuously
     * @param burst     {@code DAGY_RATE_LIMIT_BURST}: the most requests a key may send at once after a quiet spell
     */
    public record RateLimit(
            @DefaultValue("true") boolean enabled,
            @DefaultValue("120") int perMinute,
            @DefaultValue("200") int burst) {

        public RateLimit {
            if (perMinute < 1 || burst < 1) {
                throw new IllegalArgumentException("DAGY_RATE_LIMIT_PER_MINUTE and DAGY_RATE_LIMIT_BURST must be at "
                        + "least 1, not " + perMinute + " and " + burst);
            }
        }
    }

    /**
     * Browser access to the API.
     *
     * @param corsAllowedOrigins {@code DAGY_API_CORS_ALLOWED_ORIGINS}: comma-separated origins
     *                           ({@code https://app.example.com}) whose pages may call the API; none by default
     */
    public record Api(List<String> corsAllowedOrigins) {

        public Api {
            corsAllowedOrigins = corsAllowedOrigins == null ? List.of() : corsAllowedOrigins.stream()
                    .map(String::strip)
                    .filter(origin -> !origin.isEmpty())
                    .map(origin -> origin.endsWith("/") ? origin.substring(0, origin.length() - 1) : origin)
                    .toList();
        }
    }

    /**
     * The access log.
     *
     * @param ttlDays   {@code DAGY_ACCESS_LOG_TTL_DAYS}: days after which DynamoDB deletes a record
     * @param queueSize {@code DAGY_ACCESS_LOG_QUEUE_SIZE}: records waiting to be written before new ones are dropped
     */
    public record AccessLog(
            @DefaultValue("30") int ttlDays,
            @DefaultValue("10000") int queueSize,
            @DefaultValue("1s") java.time.Duration linger) {

        public AccessLog {
            if (ttlDays < 1 || queueSize < 1) {
                throw new IllegalArgumentException("DAGY_ACCESS_LOG_TTL_DAYS and DAGY_ACCESS_LOG_QUEUE_SIZE must be at "
                        + "least 1, not " + ttlDays + " and " + queueSize);
            }
            if (linger.isNegative() || linger.compareTo(java.time.Duration.ofSeconds(10)) > 0) {
                throw new IllegalArgumentException("DAGY_ACCESS_LOG_LINGER must be between 0 and 10s, not " + linger);
            }
        }
    }
}
