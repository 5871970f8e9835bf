package io.dagy.gateway.cors;

import io.dagy.gateway.FilterOrder;
import io.dagy.gateway.problem.ProblemWriter;
import io.dagy.gateway.ratelimit.RateLimitFilter;
import io.dagy.gateway.settings.DagyProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.CorsConfigurationSource;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;

import java.time.Duration;
import java.util.List;

/**
 * Which web pages may call the API: the origins of {@code DAGY_API_CORS_ALLOWED_ORIGINS}, none by default.
 *
 * <p>The source is the bean {@code corsConfigurationSource}, the name Spring Security's {@code .cors()} looks up, and
 * {@link CorsProblemFilter} applies it now, at {@link FilterOrder#CORS} (before the security chain). Both may run:
 * Spring's CORS processing leaves a response alone that already carries {@code Access-Control-Allow-Origin}, and a
 * preflight or a refused origin never gets past this filter, so security's copy sees only same-origin or already
 * answered requests. No bean is named {@code corsFilter}: Spring Security would take a bean of that name as its own
 * CORS filter and require it to be a {@code CorsFilter}.
 */
@Configuration(proxyBeanMethods = false)
class CorsPolicyConfiguration {

    static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE");
    static final List<String> HEADERS = List.of(HttpHeaders.AUTHORIZATION, HttpHeaders.CONTENT_TYPE,
            "Idempotency-Key", "X-Dagy-Org");
    /** Answer headers a page may read beyond the CORS-safelisted ones. */
    static final List<String> EXPOSED = List.of(RateLimitFilter.LIMIT_HEADER, RateLimitFilter.REMAINING_HEADER,
            HttpHeaders.RETRY_AFTER, HttpHeaders.LOCATION, "X-Request-Id");

    /** How long a browser may reuse a preflight's answer; without it browsers ask again after 5 seconds. */
    static final Duration PREFLIGHT_CACHE = Duration.ofMinutes(30);

    @Bean
    CorsConfigurationSource corsConfigurationSource(DagyProperties properties) {
        CorsConfiguration cors = new CorsConfiguration();
        cors.setAllowedOrigins(properties.api().corsAllowedOrigins());
        cors.setAllowedMethods(METHODS);
        cors.setAllowedHeaders(HEADERS);
        cors.setExposedHeaders(EXPOSED);
        cors.setAllowCredentials(false);   // the API takes bearer tokens, never cookies
        cors.setMaxAge(PREFLIGHT_CACHE);
        UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
        source.registerCorsConfiguration("/**", cors);
        return source;
    }

    @Bean
    FilterRegistrationBean<CorsProblemFilter> corsFilterRegistration(CorsConfigurationSource corsConfigurationSource,
                                                                     ProblemWriter problems) {
        FilterRegistrationBean<CorsProblemFilter> registration =
                new FilterRegistrationBean<>(new CorsProblemFilter(corsConfigurationSource, problems));
        registration.setOrder(FilterOrder.CORS);
        registration.setName("dagyCorsFilter");
        return registration;
    }
}
