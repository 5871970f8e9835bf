package io.dagy.localstack;

/** The local AWS stack could not start or stop. */
public final class LocalStackException extends RuntimeException {

    public LocalStackException(String message, Throwable cause) {
        super(message, cause);
    }
}
