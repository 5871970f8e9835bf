package io.dagy.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/** One line on standard error per step, with the time since the JVM started, so a long run shows where it is. */
final class Progress {

    private Progress() {
    }

    static void step(String format, Object... arguments) {
        double seconds = ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0;
        System.err.printf(Locale.ROOT, "[%7.1f s] %s%n", seconds, String.format(Locale.ROOT, format, arguments));
        System.err.flush();
    }
}
