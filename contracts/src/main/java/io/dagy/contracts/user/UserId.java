package io.dagy.contracts.user;

import java.util.regex.Pattern;

/**
 * A person's id: the identity provider's user id ({@code user_} and letters or digits, at most 64), which is also the
 * {@code sub} of their tokens. As an aggregate identifier it is typed, {@code user:<id>} ({@link #toString()}), so it
 * can never equal the identifier of a deployment, run or task run.
 */
public record UserId(String value) {

    private static final Pattern VALID = Pattern.compile("user_[A-Za-z0-9]{1,59}");

    /** What {@link #toString()} puts before the provider's id. */
    public static final String AGGREGATE_PREFIX = "user:";

    public UserId {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("a user id is 'user_' and 1-59 letters or digits: " + value);
        }
    }

    public static boolean isValid(String value) {
        return value != null && VALID.matcher(value).matches();
    }

    /** The aggregate identifier; Axon routes commands by it. */
    @Override
    public String toString() {
        return AGGREGATE_PREFIX + value;
    }
}
