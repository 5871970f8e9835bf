package io.dagy.eventstore.processing;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A work package scheduled by the first of several events runs once they are all handed over (decision 90). */
class GatheringExecutorTest {

    @Test
    void aSubmittedTaskRunsAfterTheGatherSoItSeesWhatWasHandedOverMeanwhile() throws Exception {
        GatheringExecutor executor = new GatheringExecutor(Duration.ofMillis(50), "gathering-test");
        try {
            List<Integer> handedOver = new CopyOnWriteArrayList<>(List.of(1));
            Future<Integer> batch = executor.submit(handedOver::size); // as a work package drains its queue
            for (int event = 2; event <= 7; event++) {
                handedOver.add(event); // the coordinator hands over the rest of the commit
            }

            assertThat(batch.get(5, TimeUnit.SECONDS)).isEqualTo(7);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void executeAndSubmitOfARunnableAreGatheredToo() throws Exception {
        GatheringExecutor executor = new GatheringExecutor(Duration.ofMillis(50), "gathering-test");
        try {
            long start = System.nanoTime();
            List<Long> ranAfter = new CopyOnWriteArrayList<>();
            executor.execute(() -> ranAfter.add(System.nanoTime() - start));
            executor.submit(() -> ranAfter.add(System.nanoTime() - start)).get(5, TimeUnit.SECONDS);

            assertThat(ranAfter).hasSize(2).allSatisfy(nanos -> assertThat(nanos).isGreaterThanOrEqualTo(50_000_000L));
        } finally {
            executor.shutdownNow();
        }
    }
}
