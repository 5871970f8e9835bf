package io.dagy.benchmarks.orchestration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resident set of this JVM from {@code /proc/self/status} (Linux): the figure an operator's memory limit is set
 * by, heap, metaspace, threads and DynamoDB Local's native SQLite alike.
 */
final class Memory {

    private static final Path STATUS = Path.of("/proc/self/status");

    private Memory() {
    }

    /** Resident megabytes now and at the peak since the last {@link #resetPeak()} (-1 where the system cannot tell). */
    record Resident(long currentMegabytes, long peakMegabytes) {
    }

    static Resident now() {
        return new Resident(kilobytes("VmRSS:") / 1024, kilobytes("VmHWM:") / 1024);
    }

    /** Starts a new peak (Linux resets VmHWM when 5 is written to clear_refs). */
    static void resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException unsupported) {
            // the peak then covers the whole JVM's life, which only overstates it
        }
    }

    private static long kilobytes(String field) {
        try {
            return Files.readAllLines(STATUS).stream().filter(line -> line.startsWith(field))
                    .map(line -> line.substring(field.length()).trim().split("\\s+")[0])
                    .mapToLong(Long::parseLong).findFirst().orElse(-1);
        } catch (IOException | RuntimeException unreadable) {
            return -1;
        }
    }
}
