package io.dagy.gateway.ratelimit;

import io.dagy.gateway.problem.ProblemWriter;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.tables.DagyTable;
import io.dagy.testendpoints.LocalTables;
import io.dagy.testendpoints.TestClock;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.ClientSideConfig;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import tools.jackson.databind.json.JsonMapper;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several nodes on one {@code DAGY_RATE_LIMITS} table: each "node" is a filter with its own limiter and its own
 * DynamoDB client, as separate applications would have. Buckets stand still in time ({@link TestClock}), so exactly
 * the burst may pass.
 */
class SharedBudgetTest {

    private static final int PER_MINUTE = 60;
    private static final int BURST = 20;

    private final String table = LocalTables.create(DagyTable.RATE_LIMITS);
    private final TestClock clock = new TestClock();
    private final List<DynamoDbClient> clients = new ArrayList<>();

    @AfterEach
    void closeClients() {
        clients.forEach(DynamoDbClient::close);
    }

    @Test
    void twoNodesShareOneBudgetRatherThanOneEach() throws Exception {
        RateLimitFilter nodeA = filter(node());
        RateLimitFilter nodeB = filter(node());
        AtomicInteger reached = new AtomicInteger();

        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 2 * BURST; i++) {
            statuses.add(send(i % 2 == 0 ? nodeA : nodeB, bearer("shared-key"), reached).getStatus());
        }

        assertThat(statuses.subList(0, BURST)).containsOnly(200);
        assertThat(statuses.subList(BURST, 2 * BURST)).containsOnly(429);
        assertThat(reached).hasValue(BURST);
    }

    @Test
    void concurrentRequestsFromManyThreadsAndTwoNodesNeverGetMoreThanTheBurst() throws Exception {
        DynamoDbProxyManager storeA = node();
        DynamoDbProxyManager storeB = node();
        List<RateLimitFilter> nodes = List.of(filter(storeA), filter(storeB));
        int threads = 8;
        int attemptsEach = 6;   // 48 attempts for 20 tokens
        AtomicInteger reached = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                RateLimitFilter node = nodes.get(t % 2);
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < attemptsEach; i++) {
                        if (send(node, bearer("contended-key"), reached).getStatus() == 429) {
                            refused.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> each : done) {
                each.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(reached).hasValue(BURST);
        assertThat(refused).hasValue(threads * attemptsEach - BURST);
        assertThat(storeA.conflicts() + storeB.conflicts()).as("writes that lost a race and were retried")
                .isPositive();
    }

    @Test
    void differentKeysHaveIndependentBudgets() throws Exception {
        RateLimitFilter node = filter(node());
        AtomicInteger reached = new AtomicInteger();
        for (int i = 0; i < BURST; i++) {
            send(node, bearer("key-a"), reached);
        }
        assertThat(send(node, bearer("key-a"), reached).getStatus()).isEqualTo(429);

        var keyB = send(node, bearer("key-b"), reached);
        var address = send(node, fromAddress("192.0.2.10"), reached);
        var otherAddress = send(node, fromAddress("192.0.2.11"), reached);

        assertThat(keyB.getHeader("X-RateLimit-Remaining")).isEqualTo(Integer.toString(BURST - 1));
        assertThat(address.getHeader("X-RateLimit-Remaining")).isEqualTo(Integer.toString(BURST - 1));
        assertThat(otherAddress.getHeader("X-RateLimit-Remaining")).isEqualTo(Integer.toString(BURST - 1));
    }

    @Test
    void theApiKeyIsStoredOnlyAsASaltedSha256AndTheBucketExpiresOnceItWouldBeFullAgain() throws Exception {
        RateLimitFilter node = filter(node());
        send(node, bearer("secret-api-key-123"), new AtomicInteger());

        List<Map<String, AttributeValue>> items;
        try (DynamoDbClient dynamoDb = LocalTables.dynamoDb()) {
            items = dynamoDb.scan(b -> b.tableName(table).consistentRead(true)).items();
        }

        assertThat(items).singleElement().satisfies(item -> {
            // salted, so a bucket cannot be linked to the key's own hash in DAGY_API_KEYS
            assertThat(item.get("pk").s()).isEqualTo("key#" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest("rate-limit:secret-api-key-123".getBytes(StandardCharsets.UTF_8))));
            assertThat(item.get("pk").s()).doesNotContain(io.dagy.gateway.security.ApiKeys.hash("secret-api-key-123"));
            assertThat(item.get("sk").s()).isEqualTo(PER_MINUTE + "/" + BURST);
            assertThat(item.toString()).doesNotContain("secret-api-key-123");
            // one token used: full again after 1 s at 60 a minute, kept a minute more
            long expiresAt = Long.parseLong(item.get("expires_at").n());
            long now = TimeUnit.NANOSECONDS.toSeconds(clock.currentTimeNanos());
            assertThat(expiresAt).isBetween(now + 60, now + 63);
        });
    }

    @Test
    void anUnreachableStoreLetsRequestsThroughAndCountsThem() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        DynamoDbClient unreachable = LocalAwsClients.dynamoDb(URI.create("http://127.0.0.1:" + closedPort));
        clients.add(unreachable);
        RateLimiter limiter = new RateLimiter(proxyManager(unreachable), PER_MINUTE, BURST);
        RateLimitFilter node = new RateLimitFilter(limiter, new ProblemWriter(JsonMapper.builder().build()));
        AtomicInteger reached = new AtomicInteger();

        var response = send(node, bearer("any"), reached);

        assertThat(response.getStatus()).isEqualTo(200);
        assertThat(reached).hasValue(1);
        assertThat(response.getHeader("X-RateLimit-Limit")).isEqualTo(Integer.toString(PER_MINUTE));
        assertThat(response.getHeader("X-RateLimit-Remaining")).as("unknown while the store is down").isNull();
        assertThat(limiter.failedOpen()).isEqualTo(1);
    }

    private DynamoDbProxyManager node() {
        DynamoDbClient dynamoDb = LocalTables.dynamoDb();
        clients.add(dynamoDb);
        return proxyManager(dynamoDb);
    }

    private DynamoDbProxyManager proxyManager(DynamoDbClient dynamoDb) {
        ClientSideConfig config = ClientSideConfig.getDefault()
                .withClientClock(clock)
                .withRequestTimeout(RateLimitConfiguration.STORE_TIMEOUT)
                .withExpirationAfterWriteStrategy(ExpirationAfterWriteStrategy
                        .basedOnTimeForRefillingBucketUpToMax(Duration.ofMinutes(1)));
        return new DynamoDbProxyManager(dynamoDb, table, RateLimiter.limitKey(PER_MINUTE, BURST), config);
    }

    private static RateLimitFilter filter(DynamoDbProxyManager store) {
        return new RateLimitFilter(new RateLimiter(store, PER_MINUTE, BURST),
                new ProblemWriter(JsonMapper.builder().build()));
    }

    private static MockHttpServletRequest bearer(String token) {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/v1/runs");
        request.setServletPath("/v1/runs");
        request.addHeader("Authorization", "Bearer " + token);
        return request;
    }

    private static MockHttpServletRequest fromAddress(String address) {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/v1/runs");
        request.setServletPath("/v1/runs");
        request.setRemoteAddr(address);
        return request;
    }

    private static MockHttpServletResponse send(RateLimitFilter node, MockHttpServletRequest request,
                                                AtomicInteger reached) throws Exception {
        MockHttpServletResponse response = new MockHttpServletResponse();
        node.doFilter(request, response, new MockFilterChain() {
            @Override
            public void doFilter(ServletRequest req, ServletResponse res) {
                reached.incrementAndGet();
            }
        });
        return response;
    }
}
