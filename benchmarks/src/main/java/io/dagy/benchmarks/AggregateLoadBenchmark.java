package io.dagy.benchmarks;

import io.dagy.benchmarks.BenchmarkEnvironment.Store;
import org.axonframework.eventsourcing.AggregateSnapshotter;
import org.axonframework.eventsourcing.EventSourcingRepository;
import org.axonframework.eventsourcing.GenericAggregateFactory;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.modelling.command.Aggregate;

import java.time.Duration;
import java.util.Arrays;

/**
 * Figure 4: how long Axon's {@link EventSourcingRepository} takes to load an aggregate with {@code loadEvents}
 * events, first from its events alone, then from a snapshot at its last event taken by Axon's
 * {@link AggregateSnapshotter} (which stores the aggregate instance itself as the payload). Each load runs in its own
 * unit of work, as a command handler's would. Every load is checked: the aggregate's state must sum up all events,
 * and the reads counted below the event store must show the path taken (all events, or the snapshot and none).
 */
final class AggregateLoadBenchmark {

    /**
     * The loads of one variant.
     *
     * @param millis        the time of each timed load, sorted
     * @param eventsRead    domain events read from the aggregate's stream per load
     * @param snapshotsRead snapshots found per load
     */
    record Variant(double[] millis, long eventsRead, long snapshotsRead) {

        double median() {
            int middle = millis.length / 2;
            return millis.length % 2 == 1 ? millis[middle] : (millis[middle - 1] + millis[middle]) / 2;
        }

        double min() {
            return millis[0];
        }

        double max() {
            return millis[millis.length - 1];
        }
    }

    /**
     * @param snapshotSequence the sequence number of the stored snapshot
     */
    record Result(int events, Duration fill, Variant fromEvents, Variant fromSnapshot, long snapshotSequence) {
    }

    private final BenchmarkEnvironment environment;
    private final BenchmarkConfig config;

    AggregateLoadBenchmark(BenchmarkEnvironment environment, BenchmarkConfig config) {
        this.environment = environment;
        this.config = config;
    }

    Result run() {
        try (Store store = environment.freshStore()) {
            Progress.step("aggregate load: appending %,d events to one aggregate", config.loadEvents());
            String detail = StepRecorded.detailOf(config.payloadChars());
            EngineAppender appender = EngineAppender.oneAggregate(store.engine(), "loaded",
                    BenchmarkConfig.FILL_APPEND_SIZE, detail);
            String aggregateId = appender.aggregateId();
            Duration fill = Workers.counted(1, thread -> appender,
                    config.loadEvents() / BenchmarkConfig.FILL_APPEND_SIZE);
            CountingStorageEngine engine = new CountingStorageEngine(store.engine());
            EmbeddedEventStore eventStore = EmbeddedEventStore.builder().storageEngine(engine).build();
            try {
                EventSourcingRepository<BenchAggregate> repository = EventSourcingRepository
                        .builder(BenchAggregate.class)
                        .eventStore(eventStore)
                        .aggregateFactory(new GenericAggregateFactory<>(BenchAggregate.class))
                        .build();
                Progress.step("aggregate load: loading without snapshot");
                Variant fromEvents = loads(repository, engine, aggregateId);

                Progress.step("aggregate load: snapshotting, then loading from the snapshot");
                AggregateSnapshotter.builder()
                        .eventStore(eventStore)
                        .aggregateFactories(new GenericAggregateFactory<>(BenchAggregate.class))
                        .build()
                        .scheduleSnapshot(BenchAggregate.class, aggregateId); // runs now, on this thread
                long snapshotSequence = store.engine().readSnapshot(aggregateId)
                        .orElseThrow(() -> new IllegalStateException("the snapshotter stored no snapshot"))
                        .getSequenceNumber();
                engine.reset();
                Variant fromSnapshot = loads(repository, engine, aggregateId);

                check(fromEvents.eventsRead() == config.loadEvents() && fromEvents.snapshotsRead() == 0,
                        "a load without snapshot read " + fromEvents);
                check(snapshotSequence == config.loadEvents() - 1, "the snapshot is at " + snapshotSequence);
                check(fromSnapshot.eventsRead() == 0 && fromSnapshot.snapshotsRead() == 1,
                        "a load with a snapshot read " + fromSnapshot);
                return new Result(config.loadEvents(), fill, fromEvents, fromSnapshot, snapshotSequence);
            } finally {
                eventStore.shutDown();
            }
        }
    }

    /** One untimed load, then the timed ones; every load must read the same and rebuild the same state. */
    private Variant loads(EventSourcingRepository<BenchAggregate> repository, CountingStorageEngine engine,
                          String aggregateId) {
        load(repository, aggregateId);
        CountingStorageEngine.Reads reads = engine.reset();
        double[] millis = new double[config.loads()];
        for (int i = 0; i < millis.length; i++) {
            long start = System.nanoTime();
            load(repository, aggregateId);
            millis[i] = (System.nanoTime() - start) / 1e6;
            check(engine.reset().equals(reads), "loads read different amounts");
        }
        Arrays.sort(millis);
        return new Variant(millis, reads.domainEvents(), reads.snapshots());
    }

    private void load(EventSourcingRepository<BenchAggregate> repository, String aggregateId) {
        DefaultUnitOfWork<?> unitOfWork = DefaultUnitOfWork.startAndGet(null);
        try {
            Aggregate<BenchAggregate> aggregate = repository.load(aggregateId);
            long n = config.loadEvents();
            BenchAggregate state = aggregate.invoke(root -> root);
            check(aggregate.version() == n - 1 && state.steps() == n && state.stepSum() == n * (n - 1) / 2,
                    "the loaded aggregate does not sum up its " + n + " events");
        } finally {
            unitOfWork.rollback();
        }
    }

    private static void check(boolean condition, String failure) {
        if (!condition) {
            throw new IllegalStateException(failure);
        }
    }
}
