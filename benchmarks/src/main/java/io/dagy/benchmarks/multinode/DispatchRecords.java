package io.dagy.benchmarks.multinode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The records of started attempts: a local task appends {@code <dispatch id> <node> <epoch seconds>} to its log, the
 * worker {@code <dispatch id> <node index>} (and lines without a dispatch id for calls that failed).
 */
final class DispatchRecords {

    private DispatchRecords() {
    }

    /** Dispatch id to the nodes (or node indexes) that recorded starting it, once per start. */
    static Map<String, List<String>> read(Path log) {
        Map<String, List<String>> records = new TreeMap<>();
        for (String line : lines(log)) {
            String[] parts = line.trim().split(" ");
            if (parts.length >= 2 && parts[0].contains("/")) {
                records.computeIfAbsent(parts[0], k -> new ArrayList<>()).add(parts[1]);
            }
        }
        return records;
    }

    static List<String> lines(Path log) {
        try {
            return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** When each local attempt started (its own clock reading), by dispatch id. */
    static Map<String, Instant> startTimes(Path log) {
        Map<String, Instant> times = new TreeMap<>();
        for (String line : lines(log)) {
            String[] parts = line.trim().split(" ");
            if (parts.length == 3 && parts[0].contains("/")) {
                times.putIfAbsent(parts[0], Instant.ofEpochMilli(Math.round(Double.parseDouble(parts[2]) * 1000)));
            }
        }
        return times;
    }
}
