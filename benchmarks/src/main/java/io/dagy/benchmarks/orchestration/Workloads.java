package io.dagy.benchmarks.orchestration;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The DAG shapes the orchestration benchmark runs, as deployment specs for {@code PUT /v1/deployments/{name}}. */
public final class Workloads {

    private Workloads() {
    }

    /** {@code n} tasks, each after the one before: {@code t0000 -> t0001 -> ...}. */
    public static Map<String, Object> chain(int n, Map<String, Object> backend) {
        List<Map<String, Object>> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            tasks.add(task(chainTask(i), backend, i == 0 ? List.of() : List.of(chainTask(i - 1))));
        }
        return spec("a chain of " + n, tasks);
    }

    static String chainTask(int index) {
        return String.format("t%04d", index);
    }

    /** One root, {@code n - 2} parallel tasks after it, and one join after all of them. */
    public static Map<String, Object> wide(int n, Map<String, Object> backend) {
        List<Map<String, Object>> tasks = new ArrayList<>();
        tasks.add(task("root", backend, List.of()));
        List<String> middle = new ArrayList<>();
        for (int i = 0; i < n - 2; i++) {
            String id = String.format("p%05d", i);
            middle.add(id);
            tasks.add(task(id, backend, List.of("root")));
        }
        tasks.add(task("join", backend, middle));
        return spec("one root, " + (n - 2) + " parallel tasks, one join", tasks);
    }

    /** {@code layers} layers of {@code width} tasks; every task of a layer depends on every task of the one before. */
    public static Map<String, Object> layered(int layers, int width, Map<String, Object> backend) {
        List<Map<String, Object>> tasks = new ArrayList<>();
        List<String> previous = List.of();
        for (int layer = 0; layer < layers; layer++) {
            List<String> current = new ArrayList<>();
            for (int i = 0; i < width; i++) {
                String id = String.format("l%02d_%03d", layer, i);
                current.add(id);
                tasks.add(task(id, backend, previous));
            }
            previous = current;
        }
        return spec(layers + " layers of " + width + ", each after the whole previous layer", tasks);
    }

    private static Map<String, Object> task(String id, Map<String, Object> backend, List<String> dependsOn) {
        Map<String, Object> task = new LinkedHashMap<>();
        task.put("id", id);
        task.put("backend", backend);
        if (!dependsOn.isEmpty()) {
            task.put("depends_on", dependsOn);
        }
        return task;
    }

    private static Map<String, Object> spec(String description, List<Map<String, Object>> tasks) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("description", description);
        spec.put("tasks", tasks);
        return spec;
    }
}
