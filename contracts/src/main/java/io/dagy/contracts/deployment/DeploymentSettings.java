package io.dagy.contracts.deployment;

import java.util.List;
import java.util.Map;

/**
 * Runtime settings of a deployment; they apply to runs started after the change.
 *
 * @param executionMode   runtime tier: nano, micro, small, medium, large, xlarge
 * @param depPackageSlugs dependency packages resolved at run time
 * @param tags            key-value metadata
 */
public record DeploymentSettings(String executionMode, List<String> depPackageSlugs, Map<String, String> tags) {

    public static final List<String> EXECUTION_MODES = List.of("nano", "micro", "small", "medium", "large", "xlarge");

    public DeploymentSettings {
        depPackageSlugs = List.copyOf(depPackageSlugs);
        tags = Map.copyOf(tags);
    }

    public static DeploymentSettings defaults() {
        return new DeploymentSettings("small", List.of(), Map.of());
    }

    /** These settings with every field the patch sets replaced. */
    public DeploymentSettings with(SettingsPatch patch) {
        return new DeploymentSettings(
                patch.executionMode() != null ? patch.executionMode() : executionMode,
                patch.depPackageSlugs() != null ? patch.depPackageSlugs() : depPackageSlugs,
                patch.tags() != null ? patch.tags() : tags);
    }

    /** The fields a client sent; absent (null) fields stay as they are. */
    public record SettingsPatch(String executionMode, List<String> depPackageSlugs, Map<String, String> tags) {
    }
}
