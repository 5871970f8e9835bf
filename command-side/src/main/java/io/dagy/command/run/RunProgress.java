package io.dagy.command.run;

import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.run.RunStatus;
import io.dagy.contracts.run.TaskStatus;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The DAG progress of one run: each task's status and counters of its upstream tasks' final states, so deciding a
 * task costs O(1) per upstream change however large the DAG. Mutated only from the run's event-sourcing handlers;
 * {@link #decide} is pure.
 *
 * <p>Trigger rules (Airflow's semantics): a task is decided when its rule can no longer change its mind.
 * <ul>
 *   <li>{@code all_success}: runs when all upstream succeeded; {@code UPSTREAM_FAILED} as soon as one failed (or was
 *       upstream-failed); {@code SKIPPED} when one was skipped.</li>
 *   <li>{@code all_failed}: runs when all failed; skipped as soon as one succeeded or was skipped.</li>
 *   <li>{@code all_done}: runs when all are final, whatever they are.</li>
 *   <li>{@code one_success}: runs as soon as one succeeded; when all are final without a success,
 *       {@code UPSTREAM_FAILED} if one failed, else skipped.</li>
 *   <li>{@code one_failed}: runs as soon as one failed; skipped when all are final without a failure.</li>
 *   <li>{@code none_failed}: runs when all are final and none failed (skips allowed); {@code UPSTREAM_FAILED} as soon
 *       as one failed.</li>
 *   <li>{@code none_failed_min_one_success}: as {@code none_failed}, but skipped when none succeeded.</li>
 *   <li>{@code always}: runs at the start of the run.</li>
 * </ul>
 * "Failed" counts {@code FAILED}, {@code TIMED_OUT} and {@code UPSTREAM_FAILED}; "skipped" counts {@code SKIPPED} and
 * {@code CANCELLED}.
 */
final class RunProgress {

    private final Map<String, Node> nodes = new LinkedHashMap<>();
    /** Tasks in a final state, so that "is the run done?" costs O(1) per outcome. */
    private int finals;

    private static final class Node {
        final Dag.Task task;
        final Set<String> upstream;
        final List<String> downstream = new ArrayList<>();
        TaskStatus status = TaskStatus.PENDING;
        int done;
        int succeeded;
        int failed;
        int skipped;

        Node(Dag.Task task) {
            this.task = task;
            this.upstream = new HashSet<>(task.dependsOn());
        }

        /** Equal state (Axon's test fixture compares a handled aggregate with one rebuilt from its events). */
        @Override
        public boolean equals(Object o) {
            return o instanceof Node that && task.equals(that.task) && status == that.status && done == that.done
                    && succeeded == that.succeeded && failed == that.failed && skipped == that.skipped;
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(task.id(), status, done, succeeded, failed, skipped);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RunProgress that && nodes.equals(that.nodes);
    }

    @Override
    public int hashCode() {
        return nodes.hashCode();
    }

    /** What a change leads to: tasks to run now, and tasks that will never run, with their final state. */
    record Decision(List<String> ready, Map<String, TaskStatus> notRun) {
    }

    RunProgress(Dag dag) {
        dag.tasks().forEach(task -> nodes.put(task.id(), new Node(task)));
        nodes.values().forEach(node -> node.task.dependsOn().forEach(up -> nodes.get(up).downstream.add(node.task.id())));
    }

    boolean has(String taskId) {
        return nodes.containsKey(taskId);
    }

    TaskStatus status(String taskId) {
        return nodes.get(taskId).status;
    }

    Dag.Task task(String taskId) {
        return nodes.get(taskId).task;
    }

    /** The decision at the start of a run: every task may be decided (roots run, {@code always} runs). */
    Decision decideStart() {
        return decide(nodes.keySet());
    }

    /** The decision after these tasks changed: their downstream tasks, and transitively what not-run tasks decide. */
    Decision decideAfter(Collection<String> changed) {
        return decide(downstreamOf(changed));
    }

    private Decision decide(Collection<String> firstCandidates) {
        Set<String> ready = new LinkedHashSet<>();
        Map<String, TaskStatus> notRun = new LinkedHashMap<>();
        Collection<String> candidates = firstCandidates;
        while (!candidates.isEmpty()) {
            Map<String, TaskStatus> newlyNotRun = new LinkedHashMap<>();
            for (String id : candidates) {
                Node node = nodes.get(id);
                if (node.status != TaskStatus.PENDING || ready.contains(id) || notRun.containsKey(id)) {
                    continue;
                }
                TaskStatus verdict = verdict(node, notRun);
                if (verdict == TaskStatus.QUEUED) {
                    ready.add(id);
                } else if (verdict != null) {
                    newlyNotRun.put(id, verdict);
                }
            }
            notRun.putAll(newlyNotRun);
            candidates = downstreamOf(newlyNotRun.keySet());
        }
        return new Decision(List.copyOf(ready), Map.copyOf(notRun));
    }

    /**
     * {@code QUEUED} to run, {@code SKIPPED} or {@code UPSTREAM_FAILED} never to run, null not decided yet. Upstream
     * tasks decided not-run in the same decision ({@code pending}) count as final.
     */
    private static TaskStatus verdict(Node node, Map<String, TaskStatus> pending) {
        int total = node.upstream.size();
        int done = node.done;
        int succeeded = node.succeeded;
        int failed = node.failed;
        int skipped = node.skipped;
        // walk the smaller side: a failure cascading through a wide DAG decides thousands of tasks at once
        Collection<String> smaller = node.upstream.size() < pending.size() ? node.upstream : pending.keySet();
        for (String id : smaller) {
            TaskStatus decided = pending.get(id);
            if (decided != null && node.upstream.contains(id)) {
                done++;
                if (decided == TaskStatus.UPSTREAM_FAILED) {
                    failed++;
                } else {
                    skipped++;
                }
            }
        }
        boolean allDone = done == total;
        return switch (node.task.triggerRule()) {
            case ALWAYS -> TaskStatus.QUEUED;
            case ALL_DONE -> allDone ? TaskStatus.QUEUED : null;
            case ALL_SUCCESS -> failed > 0 ? TaskStatus.UPSTREAM_FAILED
                    : skipped > 0 ? TaskStatus.SKIPPED : allDone ? TaskStatus.QUEUED : null;
            case ALL_FAILED -> succeeded > 0 || skipped > 0 ? TaskStatus.SKIPPED : allDone ? TaskStatus.QUEUED : null;
            case ONE_SUCCESS -> succeeded > 0 || total == 0 ? TaskStatus.QUEUED
                    : allDone ? (failed > 0 ? TaskStatus.UPSTREAM_FAILED : TaskStatus.SKIPPED) : null;
            case ONE_FAILED -> failed > 0 || total == 0 ? TaskStatus.QUEUED : allDone ? TaskStatus.SKIPPED : null;
            case NONE_FAILED -> failed > 0 ? TaskStatus.UPSTREAM_FAILED : allDone ? TaskStatus.QUEUED : null;
            case NONE_FAILED_MIN_ONE_SUCCESS -> failed > 0 ? TaskStatus.UPSTREAM_FAILED
                    : allDone ? (succeeded > 0 || total == 0 ? TaskStatus.QUEUED : TaskStatus.SKIPPED) : null;
        };
    }

    // ---------------------------------------------------------------- state changes (event-sourcing handlers only)

    void markQueued(Collection<String> taskIds) {
        taskIds.forEach(id -> nodes.get(id).status = TaskStatus.QUEUED);
    }

    /** A task reached a final state; its downstream counters move. A task already final does not change. */
    void markFinal(String taskId, TaskStatus outcome) {
        Node node = nodes.get(taskId);
        if (node.status.isTerminal()) {
            return;
        }
        node.status = outcome;
        finals++;
        for (String downstreamId : node.downstream) {
            Node downstream = nodes.get(downstreamId);
            downstream.done++;
            if (outcome == TaskStatus.SUCCEEDED) {
                downstream.succeeded++;
            } else if (outcome.isFailure() || outcome == TaskStatus.UPSTREAM_FAILED) {
                downstream.failed++;
            } else {
                downstream.skipped++;
            }
        }
    }

    /** Tasks a rerun runs again: failed, timed out, cancelled or upstream-failed. */
    List<String> rerunnable() {
        return nodes.values().stream().filter(node -> switch (node.status) {
            case FAILED, TIMED_OUT, CANCELLED, UPSTREAM_FAILED -> true;
            default -> false;
        }).map(node -> node.task.id()).toList();
    }

    /** Makes these tasks pending again and recounts every task's upstream states. */
    void reset(Collection<String> taskIds) {
        taskIds.forEach(id -> nodes.get(id).status = TaskStatus.PENDING);
        nodes.values().forEach(node -> {
            node.done = 0;
            node.succeeded = 0;
            node.failed = 0;
            node.skipped = 0;
        });
        nodes.values().forEach(node -> {
            if (node.status.isTerminal()) {
                TaskStatus outcome = node.status;
                node.status = TaskStatus.QUEUED; // let markFinal count it once more
                markFinal(node.task.id(), outcome);
            }
        });
        finals = (int) nodes.values().stream().filter(node -> node.status.isTerminal()).count();
    }

    /** The decision over every pending task (after a rerun reset). */
    Decision decidePending() {
        return decide(pending());
    }

    // ---------------------------------------------------------------- outcome

    /** Tasks queued or running (not final), in DAG order. */
    List<String> active() {
        return nodes.values().stream().filter(node -> node.status == TaskStatus.QUEUED)
                .map(node -> node.task.id()).toList();
    }

    /** Tasks that have not been queued, in DAG order. */
    List<String> pending() {
        return nodes.values().stream().filter(node -> node.status == TaskStatus.PENDING)
                .map(node -> node.task.id()).toList();
    }

    boolean allFinal() {
        return finals == nodes.size();
    }

    /** The run's outcome: succeeded when every leaf task succeeded or was skipped, else failed. */
    RunStatus outcome() {
        return failedLeaves().isEmpty() ? RunStatus.SUCCEEDED : RunStatus.FAILED;
    }

    List<String> failedLeaves() {
        return nodes.values().stream()
                .filter(node -> node.downstream.isEmpty())
                .filter(node -> node.status != TaskStatus.SUCCEEDED && node.status != TaskStatus.SKIPPED)
                .map(node -> node.task.id())
                .toList();
    }

    private Set<String> downstreamOf(Collection<String> taskIds) {
        Set<String> downstream = new LinkedHashSet<>();
        taskIds.forEach(id -> downstream.addAll(nodes.get(id).downstream));
        return downstream;
    }
}
