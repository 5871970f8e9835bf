package io.dagy.contracts.identity;

import java.util.regex.Pattern;

/**
 * An organization's id: lower-case letters, digits and '-', at most 64. Every deployment, run, key and membership
 * belongs to exactly one organization. Stores written before tenancy belong to {@link #DEFAULT}.
 */
public record OrgId(String value) {

    private static final Pattern VALID = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

    /** The organization of everything stored before organizations existed, and of a fresh local installation. */
    public static final OrgId DEFAULT = new OrgId("default");

    public OrgId {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("an organization id is 1-64 of a-z, 0-9 and '-': " + value);
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
