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
 *     <li>{@link #SECURITY}: where Spring Security's filter chain sits by default
 *     ({@code SecurityProperties.DEFAULT_FILTER_ORDER}); it stores the {@code Caller};</li>
 *     <li>{@link #RATE_LIMIT}: after authentication, so only requests with accepted credentials (or none) take a
 *     bucket, and a flood of made-up API keys is refused by security without a DynamoDB write per key.</li>
 * </ol>
 */
public final class FilterOrder {

    public static final int ACCESS_LOG = -120;
    public static final int CORS = -110;
    public static final int SECURITY = -100;
    public static final int RATE_LIMIT = -90;

    private FilterOrder() {
    }
}
