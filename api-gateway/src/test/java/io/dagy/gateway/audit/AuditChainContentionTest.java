package io.dagy.gateway.audit;

import io.dagy.eventstore.tx.DynamoTransactionException;
import io.dagy.eventstore.tx.DynamoTransactionManager;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.projection.audit.AuditChain;
import io.dagy.projection.audit.AuditRecord;
import io.dagy.tables.DagyTable;
import org.axonframework.common.transaction.Transaction;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The chain under contention, on DynamoDB Local: writers of two nodes (two {@link AuditChain}s, each on its own
 * threads) appending to one organization's chain at once never fork it and never lose a record.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class AuditChainContentionTest {

    @Autowired
    DynamoDbClient dynamoDb;

    @Autowired
    DagyResources resources;

    @Test
    void twoNodesAppendingToOneChainAtOnceLoseNoRecordAndForkNothing() throws Exception {
        String org = "contended-" + UUID.randomUUID().toString().substring(0, 8);
        AuditChain nodeA = new AuditChain(dynamoDb, resources.table(DagyTable.AUDIT_LOGS));
        AuditChain nodeB = new AuditChain(dynamoDb, resources.table(DagyTable.AUDIT_LOGS));
        int perWriter = 40;
        ExecutorService writers = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            AuditChain chain = w % 2 == 0 ? nodeA : nodeB;
            String writer = "w" + w;
            done.add(writers.submit(() -> {
                start.await();
                for (int i = 0; i < perWriter; i++) {
                    chain.append(draft(org, writer + "-" + i));
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> future : done) {
            future.get();
        }
        writers.shutdown();

        AuditChain.Page all = nodeA.page(org, 0, 1000, 1000, record -> true);
        assertThat(all.records()).hasSize(4 * perWriter);
        assertThat(all.records().stream().map(AuditRecord::auditId).distinct()).hasSize(4 * perWriter);
        assertThat(all.records().stream().map(AuditRecord::seq).toList())
                .isEqualTo(java.util.stream.LongStream.rangeClosed(1, 4L * perWriter).boxed().toList());
        assertThat(nodeA.head(org).seq()).isEqualTo(4L * perWriter);
        AuditChain.Verification verification = nodeB.verify(org, null, null);
        assertThat(verification.firstMismatch()).isEmpty();
        assertThat(verification.checked()).isEqualTo(4L * perWriter);
    }

    @Test
    void aProcessorTransactionThatReadAnOlderHeadCommitsNothing() throws Exception {
        String org = "stale-" + UUID.randomUUID().toString().substring(0, 8);
        AuditChain chain = new AuditChain(dynamoDb, resources.table(DagyTable.AUDIT_LOGS));
        chain.append(draft(org, "first"));
        DynamoTransactionManager transactions = new DynamoTransactionManager(dynamoDb);

        // node A's batch reads head 1 and chains its record as 2, but has not committed yet
        Transaction slow = transactions.startTransaction();
        chain.append(draft(org, "slow"));
        // meanwhile node B (another thread) chains its own record as 2 and commits
        Executors.newSingleThreadExecutor().submit(() -> chain.append(draft(org, "fast"))).get();

        assertThatThrownBy(slow::commit).isInstanceOf(DynamoTransactionException.class);
        assertThat(chain.page(org, 0, 10, 10, r -> true).records()).extracting(AuditRecord::auditId)
                .containsExactly("aud_first", "aud_fast");

        // the batch is handled again, after the winner
        chain.append(draft(org, "slow"));
        assertThat(chain.page(org, 0, 10, 10, r -> true).records()).extracting(AuditRecord::auditId)
                .containsExactly("aud_first", "aud_fast", "aud_slow");
        assertThat(chain.verify(org, null, null).firstMismatch()).isEmpty();
    }

    @Test
    void anEventDeliveredTwiceIsChainedOnce() {
        String org = "twice-" + UUID.randomUUID().toString().substring(0, 8);
        AuditChain chain = new AuditChain(dynamoDb, resources.table(DagyTable.AUDIT_LOGS));

        assertThat(chain.append(draft(org, "once"))).isPresent();
        assertThat(chain.append(draft(org, "once"))).isEmpty();

        assertThat(chain.head(org).seq()).isEqualTo(1);
    }

    private static AuditRecord draft(String org, String id) {
        return AuditRecord.draft("aud_" + id, Instant.parse("2026-11-30T00:00:00Z"), org, "key-1", "api_key",
                "deployment_published", "deployment", id, Map.of("version", new AuditRecord.Change(null, "1")),
                "127.0.0.1", "test", AuditRecord.SUCCESS, null);
    }
}
