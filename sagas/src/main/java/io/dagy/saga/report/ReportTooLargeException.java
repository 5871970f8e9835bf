package io.dagy.saga.report;

/**
 * A backend report does not fit one SQS message (256 KiB), so it cannot be sent: the reporter (a worker's completion
 * with a huge output) is told so, instead of failing with the queue's error.
 */
public final class ReportTooLargeException extends RuntimeException {

    /** SQS's limit for one message body. */
    public static final int MAX_BYTES = 256 * 1024;

    public ReportTooLargeException(int bytes) {
        super("a report of " + bytes + " bytes does not fit one message of at most " + MAX_BYTES + " bytes");
    }
}
