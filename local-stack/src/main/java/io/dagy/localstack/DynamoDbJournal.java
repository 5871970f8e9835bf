package io.dagy.localstack;

import com.almworks.sqlite4java.SQLiteConnection;
import com.almworks.sqlite4java.SQLiteException;
import com.almworks.sqlite4java.SQLiteStatement;
import com.amazonaws.services.dynamodbv2.local.shared.access.sqlite.SQLiteLibraryLoader;

import java.nio.file.Path;

/**
 * The journal of DynamoDB Local's database file. DynamoDB Local keeps its data in SQLite and leaves SQLite's default
 * rollback journal in place: every committed write request then syncs the disk about four times (the journal, the
 * database, the journal's removal), and the disk's sync time, not the CPU, bounds how many writes a local node
 * commits per second. A write-ahead log commits with one sync of the log, as durable as before (SQLite's
 * {@code synchronous=FULL} default stays: a commit is on disk when the request answers). WAL is a property of the
 * file, so setting it once before DynamoDB Local opens the file is enough; SQLite keeps it across restarts.
 */
final class DynamoDbJournal {

    /** The file DynamoDB Local keeps every table in when started with {@code -sharedDb}. */
    static final String SHARED_DB_FILE = "shared-local-instance.db";

    private DynamoDbJournal() {
    }

    /** Puts the shared database in {@code directory} in WAL mode (creating the file if needed); returns the mode. */
    static String useWriteAheadLog(Path directory) {
        return pragma(directory, "PRAGMA journal_mode=WAL");
    }

    /** The journal mode of the shared database in {@code directory}. */
    static String mode(Path directory) {
        return pragma(directory, "PRAGMA journal_mode");
    }

    private static String pragma(Path directory, String sql) {
        try {
            SQLiteLibraryLoader.initialize(); // DynamoDB Local's own loader of SQLite's native library
        } catch (Exception e) {
            throw new LocalStackException("SQLite's native library did not load: " + e.getMessage(), e);
        }
        SQLiteConnection connection = new SQLiteConnection(directory.resolve(SHARED_DB_FILE).toFile());
        try {
            connection.open(true);
            SQLiteStatement statement = connection.prepare(sql);
            try {
                statement.step();
                return statement.columnString(0);
            } finally {
                statement.dispose();
            }
        } catch (SQLiteException e) {
            throw new LocalStackException("could not set DynamoDB Local's journal (" + sql + "): " + e.getMessage(), e);
        } finally {
            connection.dispose();
        }
    }
}
