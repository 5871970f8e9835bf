package io.dagy.contracts.run;

import java.util.regex.Pattern;

/**
 * How an external worker names itself when it polls and reports; stored with each attempt it leases. 1-128 of
 * letters, digits, '_', '.', ':', '@', '-', starting with a letter or digit (a host name, {@code pid@host}, a UUID).
 */
public record WorkerId(String value) {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}");

    public WorkerId {
        if (!isValid(value)) {
            throw new IllegalArgumentException("a worker id is 1-128 of letters, digits, '_', '.', ':', '@', '-': " + value);
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
