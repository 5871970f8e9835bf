package io.dagy.gateway;

/**
 * The order of Dagy's servlet filters, outermost first (lower runs earlier). Each filter is a Spring
 * {@code FilterRegistrationBean} with one of these orders; docs/rate-limits-and-edge.md explains the choice.
 *
 * <ol>
 *     <li>{@link #ACCESS_LOG}: outermost, so it times and records every answer, refusals by the filters below
 *     included, and reads the caller the security chain left on the request once the chain returns;</li>
 *     <li>{@link #CORS}: answers preflights before authentication (browsers send them without credentials) and puts
 *     the CORS headers on every answer below it, 401 and 429 included, so pages can read them;</li>
 *     <li>{@link #RATE_LIMIT}: before authentication, so every request counts, refused ones included: a client
 *     without credentials (limited by its address) or guessing keys cannot send more than the limit, and a refused
 *     request costs no authentication lookup. The cost: a made-up key takes a bucket (a DynamoDB write) of its own,
 *     so a client rotating made-up keys is limited only by what is in front of Dagy (a load balancer's or WAF's
 *     address limits);</li>
 *     <li>{@link #SECURITY}: where Spring Security's filter chain sits by default
 *     ({@code SecurityProperties.DEFAULT_FILTER_ORDER}); it stores the {@code Caller}.</li>
 * </ol>
 */
public final class FilterOrder {

    public static final int ACCESS_LOG = -120;
    /**
     * Inside the access log, outside everything that refuses: sees every refusal of a write (the rate limit's too) and
     * records it in the audit log before the answer leaves (decision 47).
     */
    public static final int AUDIT_REFUSALS = -115;
    public static final int CORS = -110;
    /** Answers 503 at once while DynamoDB cannot be reached, before anything that would need it. */
    public static final int STORE_OUTAGE = -107;
    public static final int RATE_LIMIT = -105;
    public static final int SECURITY = -100;

    private FilterOrder() {
    }
}
