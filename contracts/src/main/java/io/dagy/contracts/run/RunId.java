package io.dagy.contracts.run;

import java.util.regex.Pattern;

/** A run's id. Axon routes commands and associates sagas by {@link #toString()}. */
public record RunId(String value) {

    /** What the API hands out ({@code r-} and hex digits) fits; so does anything a client could use as a key. */
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    public RunId {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("blank run id");
        }
    }

    /**
     * Whether {@code value} can be a run id: 1-128 of letters, digits, '_', '.', '-', starting with a letter or digit.
     * The constructor stays lenient, because ids stored in events are read back with it.
     */
    public static boolean isValid(String value) {
        return value != null && VALID.matcher(value).matches();
    }

    @Override
    public String toString() {
        return value;
    }
}
