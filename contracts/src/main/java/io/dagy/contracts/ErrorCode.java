package io.dagy.contracts;

/**
 * Stable error codes. Every problem response carries one as its {@code code} property; clients branch on the code,
 * never on the human-readable text. A code, once published, is never renamed or reused.
 */
public enum ErrorCode {
    /** The request line or body could not be read (malformed JSON, wrong types). */
    MALFORMED_REQUEST("malformed_request"),
    /** The request was readable but its values are invalid; the problem lists every field error. */
    VALIDATION_FAILED("validation_failed"),
    /** No route matches the path. */
    ROUTE_NOT_FOUND("route_not_found"),
    /** No deployment has that name. */
    DEPLOYMENT_NOT_FOUND("deployment_not_found"),
    /** No run has that id. */
    RUN_NOT_FOUND("run_not_found"),
    /** No schedule has that id in the deployment (or it belongs to another organization, or was deleted). */
    SCHEDULE_NOT_FOUND("schedule_not_found"),
    /** No such task attempt is held by the worker that reports on it. */
    ATTEMPT_NOT_FOUND("attempt_not_found"),
    /** The run is still going; the request needs a finished run. */
    RUN_NOT_FINISHED("run_not_finished"),
    /** The route exists but not for this HTTP method. */
    METHOD_NOT_ALLOWED("method_not_allowed"),
    /** The response cannot be produced in a media type the client accepts. */
    NOT_ACCEPTABLE("not_acceptable"),
    /** The request body's media type is not supported by the route. */
    UNSUPPORTED_MEDIA_TYPE("unsupported_media_type"),
    /** The request body is larger than the server accepts. */
    PAYLOAD_TOO_LARGE("payload_too_large"),
    /** The request's headers, alone or together, are larger than the server accepts (431). */
    HEADERS_TOO_LARGE("headers_too_large"),
    /** The resource changed concurrently and the command still conflicted after retries; send it again. */
    CONCURRENT_MODIFICATION("concurrent_modification"),
    /** A dependency (DynamoDB, S3, SQS) is unavailable. */
    SERVICE_UNAVAILABLE("service_unavailable"),
    /** The request carries no credentials, or credentials that are malformed, expired, revoked or not ours. */
    UNAUTHENTICATED("unauthenticated"),
    /** The caller is known but its role does not allow this action in this organization. */
    FORBIDDEN("forbidden"),
    /** The caller sent more requests than its rate limit allows; retry after the {@code Retry-After} header. */
    RATE_LIMITED("rate_limited"),
    /** No organization has that id, or the caller is not a member of it. */
    ORGANIZATION_NOT_FOUND("organization_not_found"),
    /** No API key has that id in this organization. */
    API_KEY_NOT_FOUND("api_key_not_found"),
    /** No secret has that name in this organization. */
    SECRET_NOT_FOUND("secret_not_found"),
    /** No member has that user id in this organization. */
    MEMBER_NOT_FOUND("member_not_found"),
    /** The change would leave the organization without an owner. */
    LAST_OWNER("last_owner"),
    /** No event processor of this installation has that name and a dead-letter queue. */
    PROCESSOR_NOT_FOUND("processor_not_found"),
    /** The processor has nothing parked under that sequence. */
    DEAD_LETTER_SEQUENCE_NOT_FOUND("dead_letter_sequence_not_found"),
    /** Another retry or eviction holds the parked sequence; try again when it is done. */
    DEAD_LETTER_SEQUENCE_BUSY("dead_letter_sequence_busy"),
    /** No audit replay job of the caller's organization has that id. */
    REPLAY_NOT_FOUND("replay_not_found"),
    /** A webhook delivery whose signature is missing, wrong or too old. */
    INVALID_SIGNATURE("invalid_signature"),
    /** Any other client error that has no more precise code. */
    BAD_REQUEST("bad_request"),
    /** An unexpected server-side failure; the details are in the server log under the problem's instance id. */
    INTERNAL_ERROR("internal_error");

    private final String code;

    ErrorCode(String code) {
        this.code = code;
    }

    /** The wire form, e.g. {@code route_not_found}. */
    public String code() {
        return code;
    }
}
