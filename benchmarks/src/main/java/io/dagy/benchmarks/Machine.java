package io.dagy.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the figures were measured on. */
public final class Machine {

    private Machine() {
    }

    /** The CPU model from {@code /proc/cpuinfo}, or "cpu unknown". */
    public static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(line -> line.startsWith("model name"))
                    .map(line -> line.substring(line.indexOf(':') + 1).trim())
                    .findFirst().orElse("cpu unknown");
        } catch (IOException | RuntimeException e) {
            return "cpu unknown";
        }
    }
}
