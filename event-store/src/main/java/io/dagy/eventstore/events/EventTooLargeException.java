package io.dagy.eventstore.events;

import org.axonframework.common.AxonNonTransientException;

/**
 * An append or snapshot exceeds what DynamoDB stores (400 KB per item, 100 items or 4 MB per transaction) even after
 * compression. Raised before anything is written.
 */
public final class EventTooLargeException extends AxonNonTransientException {

    public EventTooLargeException(String message) {
        super(message);
    }
}
