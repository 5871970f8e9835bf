package io.dagy.eventstore.processing;

import org.axonframework.common.stream.BlockingStream;
import org.axonframework.eventhandling.GenericTrackedEventMessage;
import org.axonframework.eventhandling.GlobalSequenceTrackingToken;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.messaging.StreamableMessageSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReadAheadMessageSourceTest {

    /** A source whose single stream hands out what the test offers, one at a time, blocking like Axon's. */
    private static final class Source implements StreamableMessageSource<TrackedEventMessage<?>> {
        final BlockingQueue<Object> offered = new LinkedBlockingQueue<>();
        final AtomicBoolean closed = new AtomicBoolean();
        /** While set, a wait never sees what was offered: a missed wake-up. */
        final AtomicBoolean missWakeUps = new AtomicBoolean();

        @Override
        public BlockingStream<TrackedEventMessage<?>> openStream(TrackingToken token) {
            return new BlockingStream<>() {
                @Override
                public Optional<TrackedEventMessage<?>> peek() {
                    throw new UnsupportedOperationException("the read-ahead thread only takes");
                }

                private Object peeked;

                /** Like EmbeddedEventStore's tailing consumer: a wait may miss its wake-up, so it may come back empty. */
                @Override
                public boolean hasNextAvailable(int timeout, TimeUnit unit) throws InterruptedException {
                    if (peeked == null) {
                        peeked = missWakeUps.get() ? null : offered.poll(timeout, unit);
                    }
                    if (peeked instanceof RuntimeException failure) {
                        peeked = null;
                        throw failure;
                    }
                    return peeked != null;
                }

                /** An unbounded wait that missed its wake-up waits for the next append: here, none comes. */
                @Override
                public TrackedEventMessage<?> nextAvailable() throws InterruptedException {
                    if (peeked == null && missWakeUps.get()) {
                        new CountDownLatch(1).await();
                    }
                    while (!hasNextAvailable(1, TimeUnit.SECONDS)) {
                        // keep waiting
                    }
                    TrackedEventMessage<?> next = (TrackedEventMessage<?>) peeked;
                    peeked = null;
                    return next;
                }

                @Override
                public void close() {
                    closed.set(true);
                }
            };
        }
    }

    private static TrackedEventMessage<?> event(long index) {
        return new GenericTrackedEventMessage<>(new GlobalSequenceTrackingToken(index),
                GenericEventMessage.asEventMessage("event-" + index));
    }

    @Test
    void tellsTheProcessorWhenAnEventArrivesAndDeliversEventsInOrder() throws Exception {
        Source source = new Source();
        BlockingStream<TrackedEventMessage<?>> stream = new ReadAheadMessageSource(source, 8).openStream(null);
        CountDownLatch signalled = new CountDownLatch(1);
        assertThat(stream.setOnAvailableCallback(signalled::countDown)).isTrue();
        assertThat(stream.hasNextAvailable()).isFalse();

        for (long i = 0; i < 5; i++) {
            source.offered.add(event(i));
        }
        assertThat(signalled.await(5, TimeUnit.SECONDS)).isTrue();
        List<Object> payloads = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            assertThat(stream.hasNextAvailable(5, TimeUnit.SECONDS)).isTrue();
            payloads.add(stream.nextAvailable().getPayload());
        }
        assertThat(payloads).containsExactly("event-0", "event-1", "event-2", "event-3", "event-4");
        assertThat(stream.hasNextAvailable(50, TimeUnit.MILLISECONDS)).isFalse();
        stream.close();
    }

    /** EmbeddedEventStore's consumer can miss the producer's signal; an idle store sends no second one. */
    @Test
    void anEventWhoseWakeUpWasMissedIsStillDelivered() throws Exception {
        Source source = new Source();
        source.missWakeUps.set(true);
        BlockingStream<TrackedEventMessage<?>> stream = new ReadAheadMessageSource(source, 8).openStream(null);
        source.offered.add(event(0));
        Thread.sleep(100); // the reader waited and saw nothing
        source.missWakeUps.set(false);

        assertThat(stream.hasNextAvailable(5, TimeUnit.SECONDS)).isTrue();
        assertThat(stream.nextAvailable().getPayload()).isEqualTo("event-0");
        stream.close();
    }

    @Test
    void readsNoFurtherAheadThanItsBuffer() throws Exception {
        Source source = new Source();
        BlockingStream<TrackedEventMessage<?>> stream = new ReadAheadMessageSource(source, 2).openStream(null);
        for (long i = 0; i < 10; i++) {
            source.offered.add(event(i));
        }
        // two buffered, a third taken from the source and waiting for room
        Thread.sleep(300);
        assertThat(source.offered).hasSize(7);
        assertThat(stream.nextAvailable().getPayload()).isEqualTo("event-0");
        Thread.sleep(300);
        assertThat(source.offered).hasSize(6);
        stream.close();
    }

    @Test
    void aFailedReadSurfacesAfterTheEventsReadBeforeIt() throws Exception {
        Source source = new Source();
        BlockingStream<TrackedEventMessage<?>> stream = new ReadAheadMessageSource(source, 8).openStream(null);
        source.offered.add(event(0));
        source.offered.add(new IllegalStateException("storage down"));

        assertThat(stream.hasNextAvailable(5, TimeUnit.SECONDS)).isTrue();
        assertThat(stream.nextAvailable().getPayload()).isEqualTo("event-0");
        Thread.sleep(200);
        assertThatThrownBy(stream::hasNextAvailable).hasMessage("storage down");
        assertThat(source.closed).isTrue();
    }

    @Test
    void closingStopsTheReaderAndClosesTheSourceStream() throws Exception {
        Source source = new Source();
        BlockingStream<TrackedEventMessage<?>> stream = new ReadAheadMessageSource(source, 8).openStream(null);
        Thread.sleep(100);
        stream.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!source.closed.get() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(source.closed).isTrue();
        source.offered.add(event(0));
        Thread.sleep(100);
        assertThat(source.offered).hasSize(1); // nobody reads any more
    }
}
