package io.dagy.contracts.run;

import java.util.regex.Pattern;

/**
 * The name of a queue external workers poll ({@code backend.queue} of a worker task). It becomes part of a DynamoDB
 * key, so it is short and plain: 1-128 of letters, digits, '_', '.', ':', '-', starting with a letter or digit.
 */
public record WorkerQueue(String value) {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}");

    public WorkerQueue {
        if (!isValid(value)) {
            throw new IllegalArgumentException("a worker queue is 1-128 of letters, digits, '_', '.', ':', '-': " + value);
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
