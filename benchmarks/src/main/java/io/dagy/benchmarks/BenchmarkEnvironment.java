package io.dagy.benchmarks;

import io.dagy.eventstore.events.DynamoEventStorageEngine;
import io.dagy.eventstore.events.EventStoreSettings;
import io.dagy.localstack.LocalAwsClients;
import io.dagy.localstack.LocalStack;
import io.dagy.localstack.LocalStackOptions;
import io.dagy.tables.DagyTable;
import io.dagy.tables.TableBootstrap;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;

/**
 * DynamoDB Local started in this JVM (in memory), one client for every scenario, and fresh event-store tables for
 * each scenario so that no scenario reads or competes with another's data.
 */
final class BenchmarkEnvironment implements AutoCloseable {

    private final LocalStack stack;
    private final String dynamoDbLocalVersion;
    private final DynamoDbClient dynamoDb;
    private final Serializer serializer = Serialization.jackson();
    private final EventStoreSettings settings;
    private int scenarios;

    private BenchmarkEnvironment(LocalStack stack, String dynamoDbLocalVersion, EventStoreSettings settings) {
        this.stack = stack;
        this.dynamoDbLocalVersion = dynamoDbLocalVersion;
        this.dynamoDb = LocalAwsClients.dynamoDb(stack.dynamoDbEndpoint());
        this.settings = settings;
    }

    /**
     * Starts the local stack. DynamoDB Local prints a banner on standard output, where the figures go: it is kept out
     * of them, and only its version line is used.
     */
    static BenchmarkEnvironment start(EventStoreSettings settings) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream banner = new ByteArrayOutputStream();
        System.setOut(new PrintStream(banner, true, StandardCharsets.UTF_8));
        LocalStack stack;
        try {
            stack = LocalStack.start(LocalStackOptions.inMemoryOnFreePorts());
        } finally {
            System.setOut(stdout);
        }
        String version = banner.toString(StandardCharsets.UTF_8).lines()
                .filter(line -> line.startsWith("Version:"))
                .map(line -> line.substring("Version:".length()).trim())
                .findFirst().orElse("(version unknown)");
        return new BenchmarkEnvironment(stack, version, settings);
    }

    String dynamoDbLocalVersion() {
        return dynamoDbLocalVersion;
    }

    DynamoDbClient dynamoDb() {
        return dynamoDb;
    }

    Serializer serializer() {
        return serializer;
    }

    EventStoreSettings settings() {
        return settings;
    }

    /** New, empty events and snapshots tables and an engine over them. Closing the store drops the tables. */
    Store freshStore() {
        String environment = "bench" + (++scenarios);
        Map<DagyTable, String> names = new EnumMap<>(DagyTable.class);
        names.put(DagyTable.EVENTS, DagyTable.EVENTS.defaultName(environment));
        names.put(DagyTable.SNAPSHOTS, DagyTable.SNAPSHOTS.defaultName(environment));
        new TableBootstrap(dynamoDb).createMissing(names);
        DynamoEventStorageEngine engine = DynamoEventStorageEngine.builder()
                .dynamoDb(dynamoDb)
                .tables(names.get(DagyTable.EVENTS), names.get(DagyTable.SNAPSHOTS))
                .settings(settings)
                .eventSerializer(serializer)
                .snapshotSerializer(serializer)
                .build();
        return new Store(engine, names.get(DagyTable.EVENTS), names.get(DagyTable.SNAPSHOTS));
    }

    @Override
    public void close() {
        dynamoDb.close();
        stack.close();
    }

    /** The tables of one scenario and the engine over them. */
    final class Store implements AutoCloseable {
        private final DynamoEventStorageEngine engine;
        private final String eventsTable;
        private final String snapshotsTable;

        private Store(DynamoEventStorageEngine engine, String eventsTable, String snapshotsTable) {
            this.engine = engine;
            this.eventsTable = eventsTable;
            this.snapshotsTable = snapshotsTable;
        }

        DynamoEventStorageEngine engine() {
            return engine;
        }

        String eventsTable() {
            return eventsTable;
        }

        /** Drops the tables, so DynamoDB Local's memory does not grow from scenario to scenario. */
        @Override
        public void close() {
            dynamoDb.deleteTable(b -> b.tableName(eventsTable));
            dynamoDb.deleteTable(b -> b.tableName(snapshotsTable));
        }
    }
}
