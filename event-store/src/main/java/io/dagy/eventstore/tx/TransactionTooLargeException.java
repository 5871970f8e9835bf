package io.dagy.eventstore.tx;

import org.axonframework.common.AxonNonTransientException;

/** A unit of work wanted to write more than one DynamoDB transaction holds. Nothing was written; retrying cannot help. */
public final class TransactionTooLargeException extends AxonNonTransientException {

    public TransactionTooLargeException(String message) {
        super(message);
    }
}
