package io.dagy.saga.secret;

/** A secret a task names cannot be had; the message names it but never holds a value. */
public final class SecretUnavailableException extends RuntimeException {

    public SecretUnavailableException(String message) {
        super(message);
    }
}
