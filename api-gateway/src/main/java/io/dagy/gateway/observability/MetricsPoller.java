package io.dagy.gateway.observability;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Reads the gauges that cost requests (queue depths, processor lag) every 30 s on one daemon thread: scrapes read the
 * last values and never reach AWS, so a scrape interval shorter than 30 s costs nothing more.
 */
final class MetricsPoller {

    static final long INTERVAL_SECONDS = 30;

    private final QueueDepth queues;
    private final ProcessorLag lag;
    private ScheduledExecutorService executor;

    MetricsPoller(QueueDepth queues, ProcessorLag lag) {
        this.queues = queues;
        this.lag = lag;
    }

    synchronized void start() {
        if (executor != null) {
            return;
        }
        executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "metrics-poller");
            thread.setDaemon(true);
            return thread;
        });
        executor.scheduleWithFixedDelay(this::pollNow, 0, INTERVAL_SECONDS, TimeUnit.SECONDS);
    }

    /** One poll now (the scheduled one, or a test's). */
    synchronized void pollNow() {
        queues.poll();
        if (lag != null) {
            lag.poll();
        }
    }

    synchronized void stop() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
