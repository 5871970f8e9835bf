package io.dagy.contracts.run;

/**
 * Error kinds that Dagy itself gives a failed attempt (a backend's own failures carry theirs, e.g. {@code exit_1}).
 * A retry policy's {@code retry_on} lists the kinds it retries; leaving one out excludes it.
 */
public final class ErrorKinds {

    /** The installation cannot run this backend at all. */
    public static final String BACKEND_UNAVAILABLE = "backend_unavailable";
    /**
     * AWS refused the request for good: access denied, a function, state machine, cluster or task definition that does
     * not exist, an invalid parameter. Retrying it changes nothing until someone fixes the setup.
     */
    public static final String BACKEND_MISCONFIGURED = "backend_misconfigured";
    /** AWS kept throttling or failing (5xx, no connection) after the SDK's retries. */
    public static final String BACKEND_THROTTLED = "backend_throttled";
    /** The task names a secret that its organization does not have, or secrets cannot be decrypted here. */
    public static final String SECRET_UNAVAILABLE = "secret_unavailable";

    private ErrorKinds() {
    }
}
