package io.dagy.contracts.run;

import java.util.regex.Pattern;

/**
 * A run's id, also its aggregate identifier: {@code r-} and up to 64 of a-z, A-Z, 0-9 and '-'. The prefix types it: no
 * other aggregate's identifier starts with {@code r-} (deployments are {@code deployment:<org>:<name>}, task runs
 * {@code <runId>/<taskId>}). Axon routes commands and associates sagas by {@link #toString()}.
 */
public record RunId(String value) {

    private static final Pattern VALID = Pattern.compile("r-[A-Za-z0-9-]{1,64}");

    public RunId {
        if (!isValid(value)) {
            throw new IllegalArgumentException("a run id is r- and 1-64 of a-z, A-Z, 0-9, '-': " + value);
        }
    }

    public static boolean isValid(String value) {
        return value != null && VALID.matcher(value).matches();
    }

    @Override
    public String toString() {
        return value;
    }
}
