package io.dagy.gateway.settings;

import java.util.List;

/** Start-up settings are missing or invalid. The message names every variable concerned. */
public final class InvalidSettingsException extends RuntimeException {

    private final List<String> problems;

    public InvalidSettingsException(String profile, List<String> problems) {
        super("Dagy cannot start in the '" + profile + "' profile: " + String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
