package io.dagy.contracts.identity;

import java.util.regex.Pattern;

/** An API key's id ({@code key_} and 16 hex digits): shown in listings and audit records, never the key itself. */
public record ApiKeyId(String value) {

    private static final Pattern VALID = Pattern.compile("key_[0-9a-f]{16}");

    public ApiKeyId {
        if (!isValid(value)) {
            throw new IllegalArgumentException("an API key id is key_ and 16 hex digits: " + value);
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
