package io.dagy.eventstore.processing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The executor of a pooled processor's work packages, which runs what is submitted a moment later, not at once
 * (decision 90). Axon's coordinator hands a work package the events it reads one at a time, and each hand-over schedules
 * the package; run at once, the package took the first event of a commit into a batch of its own while the coordinator
 * was still handing it the rest, so a commit of seven events cost a processor two or three transactions. Waiting a
 * millisecond lets the coordinator hand over all that the stream has, and the package handles them as one batch.
 * Tasks scheduled with a delay of their own keep it.
 */
public final class GatheringExecutor extends ScheduledThreadPoolExecutor {

    private final long gatherNanos;

    /**
     * @param gather     how long a submitted task waits before it runs
     * @param threadName the name of the executor's one thread
     */
    public GatheringExecutor(Duration gather, String threadName) {
        super(1, runnable -> {
            Thread thread = new Thread(runnable, threadName);
            thread.setDaemon(true);
            return thread;
        });
        this.gatherNanos = gather.toNanos();
    }

    @Override
    public void execute(Runnable command) {
        schedule(command, gatherNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public Future<?> submit(Runnable task) {
        return schedule(task, gatherNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public <T> Future<T> submit(Runnable task, T result) {
        return schedule(Executors.callable(task, result), gatherNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        return schedule(task, gatherNanos, TimeUnit.NANOSECONDS);
    }
}
