package io.dagy.eventstore.tx;

import org.axonframework.common.AxonTransientException;

/**
 * A DynamoDB transaction did not commit: it was cancelled (a conflicting concurrent transaction) or rejected before it
 * was sent. Nothing of it was written, so retrying the unit of work is safe.
 */
public final class DynamoTransactionException extends AxonTransientException {

    public DynamoTransactionException(String message, Throwable cause) {
        super(message, cause);
    }
}
