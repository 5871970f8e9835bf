package io.dagy.saga.report;

/**
 * A worker's report (its output and message) is larger than Dagy records: 256 KiB, the size of one message of the
 * events queue, which AWS backends' reports also have to fit. The worker is told so and nothing is recorded; large
 * results belong in the worker's own storage, with their location in the output.
 */
public final class ReportTooLargeException extends RuntimeException {

    /** SQS's limit for one message body, kept for every report. */
    public static final int MAX_BYTES = 256 * 1024;

    public ReportTooLargeException(int bytes) {
        super("a report of " + bytes + " bytes does not fit one message of at most " + MAX_BYTES + " bytes");
    }
}
