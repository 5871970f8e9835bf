package io.dagy.saga.backend;

import io.dagy.contracts.identity.OrgId;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.SharedLocalStack;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An attempt waiting in the queue is not overtaken by younger attempts handed over in memory (decision 95): a worker
 * whose reports each bring the next task of its chain used to keep queued attempts waiting for as long as it went on.
 */
class WorkerQueueOrderTest {

    private final DynamoDbClient dynamoDb = LocalAwsClients.dynamoDb(SharedLocalStack.get().dynamoDbEndpoint());
    private final String table = WorkerTestKit.table(dynamoDb);

    @Test
    void anAttemptQueuedHereIsLeasedBeforeAYoungerOneIsHandedOver() throws Exception {
        WorkerBackend node = backend();
        Dispatch older = dispatch();
        Dispatch younger = dispatch();
        node.dispatch(older); // no poll waits: queued

        var held = node.reportBeforePoll(younger.org(), "q", () -> node.offer(younger)); // a report that made `younger` ready
        Optional<WorkerBackend.WorkItem> first = node.poll(younger.org(), "q", "w1", Duration.ofSeconds(5), held);
        node.dispatch(younger); // the saga's dispatch: not handed over, so queued behind `older`
        Optional<WorkerBackend.WorkItem> second = node.poll(younger.org(), "q", "w1", Duration.ofSeconds(5));

        assertThat(first).map(WorkerBackend.WorkItem::dispatchId).contains(older.dispatchId());
        assertThat(second).map(WorkerBackend.WorkItem::dispatchId).contains(younger.dispatchId());
    }

    @Test
    void anAttemptAnotherNodeQueuedIsFoundBeforeAHandOverOnANodeThatHasNotLookedLately() throws Exception {
        WorkerBackend nodeA = backend();
        WorkerBackend nodeB = backend();
        Dispatch older = dispatch();
        Dispatch younger = dispatch();
        nodeB.dispatch(older);

        var held = nodeA.reportBeforePoll(younger.org(), "q", () -> nodeA.offer(younger));
        Optional<WorkerBackend.WorkItem> first = nodeA.poll(younger.org(), "q", "w1", Duration.ofSeconds(5), held);

        assertThat(first).map(WorkerBackend.WorkItem::dispatchId).contains(older.dispatchId());
    }

    @Test
    void withNothingQueuedTheNextTaskIsHandedOverWithoutAQueueWrite() throws Exception {
        WorkerBackend node = backend();
        Dispatch only = dispatch();
        // the worker's previous poll looked at the (empty) queue: its next report's task is handed over
        assertThat(node.poll(only.org(), "q", "w1", Duration.ofMillis(50))).isEmpty();

        var held = node.reportBeforePoll(only.org(), "q", () -> node.offer(only));
        Optional<WorkerBackend.WorkItem> handed = node.poll(only.org(), "q", "w1", Duration.ofSeconds(5), held);
        node.dispatch(only); // the saga's dispatch finds it leased here

        assertThat(handed).map(WorkerBackend.WorkItem::dispatchId).contains(only.dispatchId());
        assertThat(dynamoDb.scan(b -> b.tableName(table)).items()).as("the guard alone")
                .singleElement().satisfies(item -> assertThat(item.get("state").s()).isEqualTo("leased"));
    }

    /** Under a backlog, the polls of a node lease the entries one look found, without a look each (decision 96). */
    @Test
    void pollsOfANodeShareALookAtABacklog() throws Exception {
        AtomicInteger looks = new AtomicInteger();
        DynamoDbClient counted = WorkerTestKit.dynamoDbSeeing(request -> {
            if (request instanceof QueryRequest) {
                looks.incrementAndGet();
            }
        });
        WorkerBackend node = WorkerTestKit.backend(counted, table);
        List<String> queued = queue(node, 3);

        List<String> leased = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            leased.add(node.poll(new OrgId("acme"), "q", "w" + i, Duration.ofSeconds(5))
                    .orElseThrow().dispatchId());
        }

        assertThat(leased).containsExactlyInAnyOrderElementsOf(queued);
        // one look, or two should a slow machine let the shared entries age past their second: never one per poll
        assertThat(looks.get()).isLessThan(3);
    }

    /** A lease that fails with an error (not refused) leaves the entries that look read to the next looks. */
    @Test
    void entriesALookReadAreLeasedLaterWhenALeaseFailsWithAnError() throws Exception {
        AtomicBoolean failNextLease = new AtomicBoolean(true);
        DynamoDbClient failing = WorkerTestKit.dynamoDbSeeing(request -> {
            if (request instanceof TransactWriteItemsRequest lease && lease.transactItems().get(0).delete() != null
                    && failNextLease.getAndSet(false)) {
                throw new IllegalStateException("the network failed");
            }
        });
        WorkerBackend node = WorkerTestKit.backend(failing, table);
        List<String> queued = queue(node, 2);
        OrgId acme = new OrgId("acme");

        assertThatThrownBy(() -> node.poll(acme, "q", "w1", Duration.ofSeconds(5)))
                .hasMessageContaining("the network failed");
        List<String> leased = List.of(node.poll(acme, "q", "w1", Duration.ofSeconds(2)).orElseThrow().dispatchId(),
                node.poll(acme, "q", "w1", Duration.ofSeconds(2)).orElseThrow().dispatchId());

        assertThat(leased).containsExactlyInAnyOrderElementsOf(queued);
    }

    /** Queues {@code count} new attempts on {@code node} (no poll waits): their dispatch ids. */
    private static List<String> queue(WorkerBackend node, int count) {
        List<String> queued = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Dispatch dispatch = dispatch();
            node.dispatch(dispatch);
            queued.add(dispatch.dispatchId());
        }
        return queued;
    }

    private WorkerBackend backend() {
        return WorkerTestKit.backend(dynamoDb, table);
    }

    private static Dispatch dispatch() {
        return WorkerTestKit.dispatch();
    }
}
