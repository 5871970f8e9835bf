package io.dagy.benchmarks;

import org.axonframework.eventsourcing.eventstore.EventStorageEngine;

/**
 * One thread's appends through the engine: {@code eventsPerAppend} domain events per call to
 * {@code appendEvents}, with increasing sequence numbers, to aggregates no other thread writes to. After
 * {@code eventsPerAggregate} events the thread moves on to a new aggregate.
 */
final class EngineAppender implements Workers.Operation {

    private final EventStorageEngine engine;
    private final String aggregatePrefix;
    private final int eventsPerAppend;
    private final long eventsPerAggregate;
    private final String detail;
    private int aggregate;
    private long nextSequence;

    EngineAppender(EventStorageEngine engine, String aggregatePrefix, int eventsPerAppend, long eventsPerAggregate,
                   String detail) {
        this.engine = engine;
        this.aggregatePrefix = aggregatePrefix;
        this.eventsPerAppend = eventsPerAppend;
        this.eventsPerAggregate = eventsPerAggregate;
        this.detail = detail;
    }

    /** One aggregate for the whole run. */
    static EngineAppender oneAggregate(EventStorageEngine engine, String aggregatePrefix, int eventsPerAppend,
                                       String detail) {
        return new EngineAppender(engine, aggregatePrefix, eventsPerAppend, Long.MAX_VALUE, detail);
    }

    @Override
    public void run() {
        if (nextSequence >= eventsPerAggregate) {
            aggregate++;
            nextSequence = 0;
        }
        engine.appendEvents(StepRecorded.batch(aggregateId(), nextSequence, eventsPerAppend, detail));
        nextSequence += eventsPerAppend;
    }

    /** The aggregate the next append goes to. */
    String aggregateId() {
        return aggregatePrefix + "-" + aggregate;
    }
}
