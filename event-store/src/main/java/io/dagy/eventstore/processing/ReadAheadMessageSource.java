package io.dagy.eventstore.processing;

import org.axonframework.common.stream.BlockingStream;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.messaging.StreamableMessageSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A message source whose streams tell their reader when events arrive. Axon's pooled streaming processor looks at a
 * stream that cannot do that ({@code EmbeddedEventStore}'s) only every 500 ms when idle, so every hop between
 * processors waited 250 ms on average. Each stream opened here reads ahead from the delegate on its own thread into a
 * bounded buffer, and calls the processor's availability callback when an event lands in an empty buffer: the
 * processor wakes at once. The delegate's stream is touched by that thread only (it is not thread-safe); the buffer
 * bounds memory and applies back pressure when the processor falls behind.
 */
public final class ReadAheadMessageSource implements StreamableMessageSource<TrackedEventMessage<?>> {

    private static final Logger log = LoggerFactory.getLogger(ReadAheadMessageSource.class);
    private static final AtomicInteger STREAMS = new AtomicInteger();
    /** The longest a reader waits on the delegate before it looks again (the bound on a missed signal). */
    private static final int SOURCE_WAIT_MILLIS = 50;

    private final StreamableMessageSource<TrackedEventMessage<?>> delegate;
    private final int bufferSize;

    public ReadAheadMessageSource(StreamableMessageSource<TrackedEventMessage<?>> delegate, int bufferSize) {
        if (bufferSize < 1) {
            throw new IllegalArgumentException("bufferSize must be positive");
        }
        this.delegate = delegate;
        this.bufferSize = bufferSize;
    }

    @Override
    public BlockingStream<TrackedEventMessage<?>> openStream(TrackingToken trackingToken) {
        return new ReadAheadStream(delegate.openStream(trackingToken), bufferSize);
    }

    @Override
    public TrackingToken createTailToken() {
        return delegate.createTailToken();
    }

    @Override
    public TrackingToken createHeadToken() {
        return delegate.createHeadToken();
    }

    @Override
    public TrackingToken createTokenAt(Instant dateTime) {
        return delegate.createTokenAt(dateTime);
    }

    @Override
    public TrackingToken createTokenSince(Duration duration) {
        return delegate.createTokenSince(duration);
    }

    private static final class ReadAheadStream implements BlockingStream<TrackedEventMessage<?>> {

        private final BlockingStream<TrackedEventMessage<?>> source;
        private final BlockingQueue<TrackedEventMessage<?>> buffer;
        private final Thread reader;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition nonEmpty = lock.newCondition();
        private volatile Runnable onAvailable = () -> {
        };
        private volatile RuntimeException failure;
        private volatile boolean closed;

        ReadAheadStream(BlockingStream<TrackedEventMessage<?>> source, int bufferSize) {
            this.source = source;
            this.buffer = new ArrayBlockingQueue<>(bufferSize);
            this.reader = new Thread(this::readAhead, "event-read-ahead-" + STREAMS.incrementAndGet());
            this.reader.setDaemon(true);
            this.reader.start();
        }

        private void readAhead() {
            try {
                while (!closed) {
                    // never an unbounded wait: EmbeddedEventStore's consumer checks for new events before it waits
                    // for the producer's signal, so a signal sent in between is missed, and an idle store sends no
                    // other; a bounded wait looks again
                    if (!source.hasNextAvailable(SOURCE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                        continue;
                    }
                    TrackedEventMessage<?> event = source.nextAvailable();
                    buffer.put(event);
                    // after the put: had the reader emptied the buffer between a check and the put, a check made
                    // before it would see "not empty" and signal nobody
                    if (buffer.size() == 1) {
                        signalAvailable();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException | Error e) {
                // an Error too: a reader that died silently would leave the processor claiming segments it never reads
                if (!closed) {
                    log.warn("Reading events ahead failed; the processor will reopen its stream", e);
                    failure = e instanceof RuntimeException runtime ? runtime
                            : new IllegalStateException("reading events ahead failed", e);
                    signalAvailable();
                }
                if (e instanceof VirtualMachineError fatal) {
                    throw fatal;
                }
            } finally {
                source.close();
            }
        }

        /** A failed read surfaces to the processor once the events read before it are consumed. */
        private void rethrowIfDrainedAndFailed() {
            RuntimeException failed = failure;
            if (failed != null && buffer.isEmpty()) {
                throw failed;
            }
        }

        @Override
        public Optional<TrackedEventMessage<?>> peek() {
            rethrowIfDrainedAndFailed();
            return Optional.ofNullable(buffer.peek());
        }

        /** Wakes a waiting reader of this stream and the processor; called when the buffer stops being empty. */
        private void signalAvailable() {
            lock.lock();
            try {
                nonEmpty.signalAll();
            } finally {
                lock.unlock();
            }
            onAvailable.run();
        }

        @Override
        public boolean hasNextAvailable(int timeout, TimeUnit unit) throws InterruptedException {
            rethrowIfDrainedAndFailed();
            if (!buffer.isEmpty() || timeout <= 0) {
                return !buffer.isEmpty();
            }
            long left = unit.toNanos(timeout);
            lock.lock();
            try {
                while (buffer.isEmpty() && failure == null && left > 0) {
                    left = nonEmpty.awaitNanos(left);
                }
            } finally {
                lock.unlock();
            }
            return !buffer.isEmpty();
        }

        @Override
        public TrackedEventMessage<?> nextAvailable() throws InterruptedException {
            while (!hasNextAvailable(Integer.MAX_VALUE, TimeUnit.MILLISECONDS)) {
                rethrowIfDrainedAndFailed();
            }
            return buffer.remove();
        }

        @Override
        public void skipMessagesWithPayloadTypeOf(TrackedEventMessage<?> ignoredMessage) {
            // a hint only; skipping it on the reader's side would race with the reader
        }

        @Override
        public boolean setOnAvailableCallback(Runnable callback) {
            onAvailable = callback;
            if (!buffer.isEmpty()) {
                callback.run();
            }
            return true;
        }

        @Override
        public void close() {
            closed = true;
            reader.interrupt();
        }
    }
}
