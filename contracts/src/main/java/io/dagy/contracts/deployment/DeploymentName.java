package io.dagy.contracts.deployment;

import java.util.regex.Pattern;

/** A deployment's name, which is also its identity: lower-case letters, digits, '-', '_' and '.', at most 64. */
public record DeploymentName(String value) {

    private static final Pattern VALID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    public DeploymentName {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("a deployment name is 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit: "
                    + value);
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
