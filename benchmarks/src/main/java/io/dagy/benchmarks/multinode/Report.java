package io.dagy.benchmarks.multinode;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** The kill test's figures, on standard output. */
final class Report {

    private final PrintStream out;

    Report(PrintStream out) {
        this.out = out;
    }

    void header(int tasks, int runs, String killed, String restarted, double seconds) {
        line("Multi-node kill test: 3 nodes (JVMs) on one local stack; %d runs, %d tasks; %s killed (kill -9), "
                + "%s stopped gracefully and started again; runs took %.1f s", runs, tasks, killed, restarted, seconds);
        line("");
    }

    void line(String format, Object... arguments) {
        out.printf(Locale.ROOT, format + "%n", arguments);
    }

    /** Per processor, which segments each node holds; then the totals per node. */
    void segments(String title, MultiNodeKillTest.Sample sample) {
        line("");
        line("%s:", title);
        Map<String, Integer> totals = new TreeMap<>();
        sample.owners().forEach((processor, segments) -> {
            Map<String, List<Integer>> byNode = new TreeMap<>();
            segments.forEach((segment, owner) -> byNode.computeIfAbsent(owner, o -> new ArrayList<>()).add(segment));
            byNode.forEach((owner, held) -> totals.merge(owner, held.size(), Integer::sum));
            line("  %-28s %s", processor, byNode.entrySet().stream()
                    .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining("  ")));
        });
        line("  %-28s %s", "segments per node", totals);
    }

    /** What each node's log says about errors, repeated dispatches and balancing. */
    void logs(Collection<Node> nodes) {
        line("");
        line("node logs: ERROR lines / WARN lines / dispatches found started before / segments released by the balancer"
                + " / commits refused for a lost claim");
        for (Node node : nodes) {
            List<String> lines;
            try {
                lines = Files.readAllLines(node.log(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            line("  %s: %d / %d / %d / %d / %d", node.name(), count(lines, " ERROR "), count(lines, " WARN "),
                    count(lines, "was started before"), count(lines, "Releasing segment"),
                    count(lines, "UnableToClaimTokenException"));
            lines.stream().filter(line -> line.contains("was started before"))
                    .forEach(line -> line("    %s", line.substring(line.indexOf("Dispatch "))));
        }
    }

    private static long count(List<String> lines, String text) {
        return lines.stream().filter(line -> line.contains(text)).count();
    }
}
