package io.dagy.gateway.observability;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemWriter;
import io.dagy.gateway.problem.Problems;
import org.springframework.http.HttpStatus;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.intercept.RequestAuthorizationContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Who may read the management endpoints ({@code /actuator/**}, on the management port): with
 * {@code DAGY_METRICS_TOKEN} set, a request with {@code Authorization: Bearer <that token>} (Prometheus's
 * {@code authorization} setting sends it); without it, anyone in the local profile (whose management port listens on
 * loopback only) and nobody in the aws profile. Refusals are 401 problems like the API's. The token is compared in
 * constant time and never logged.
 */
@Configuration(proxyBeanMethods = false)
class ManagementSecurity {

    @Bean
    @Order(0)
    SecurityFilterChain managementFilterChain(HttpSecurity http, ObservabilityProperties settings, Environment environment,
                                           ProblemWriter writer) throws Exception {
        boolean aws = environment.acceptsProfiles(Profiles.of("aws"));
        AuthenticationEntryPoint refuse = (request, response, failure) -> {
            response.setHeader("WWW-Authenticate", "Bearer");
            writer.write(request, response, Problems.of(HttpStatus.UNAUTHORIZED, ErrorCode.UNAUTHENTICATED,
                    settings.hasMetricsToken() || !aws
                            ? "The management endpoints need the metrics token, as 'Authorization: Bearer ...'."
                            : "The management endpoints are closed: set DAGY_METRICS_TOKEN to open them to its holder."));
        };
        AuthorizationManager<RequestAuthorizationContext> access = (authentication, context) ->
                new AuthorizationDecision(allowed(context.getRequest().getHeader("Authorization"), settings, aws));
        http.securityMatcher("/actuator/**")
                .csrf(csrf -> csrf.disable())
                .httpBasic(basic -> basic.disable())
                .formLogin(form -> form.disable())
                .logout(logout -> logout.disable())
                .requestCache(cache -> cache.disable())
                .anonymous(anonymous -> { })
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .exceptionHandling(exceptions -> exceptions.authenticationEntryPoint(refuse)
                        .accessDeniedHandler((request, response, denied) -> refuse.commence(request, response, null)))
                .authorizeHttpRequests(requests -> requests.anyRequest().access(access));
        return http.build();
    }

    static boolean allowed(String authorization, ObservabilityProperties settings, boolean aws) {
        if (!settings.hasMetricsToken()) {
            return !aws;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, settings.metricsToken().getBytes(StandardCharsets.UTF_8));
    }
}
