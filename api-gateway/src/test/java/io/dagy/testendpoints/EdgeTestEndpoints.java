package io.dagy.testendpoints;

import io.dagy.contracts.identity.Actor;
import io.dagy.contracts.identity.ActorKind;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.FilterOrder;
import io.dagy.gateway.security.Caller;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.cors.CorsConfigurationSource;
import org.springframework.web.filter.CorsFilter;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the edge tests (rate limit, CORS, access log) add to the application: a cheap route that counts its calls, a
 * clock for the buckets that stands still, and a stand-in for the security chain at its future place
 * ({@link FilterOrder#SECURITY}): it stores a {@link Caller} named by the test header {@code X-Test-Caller}
 * ({@code org/kind/id}) and runs Spring's own {@link CorsFilter} on the same {@code corsConfigurationSource}, as
 * Spring Security's {@code .cors()} will.
 */
@TestConfiguration
@Import(EdgeTestEndpoints.PingController.class)
public class EdgeTestEndpoints {

    @Bean
    TestClock rateLimitClock() {
        return new TestClock();
    }

    /** Counts the requests that reached the application. */
    @RestController
    public static class PingController {

        public static final AtomicInteger CALLS = new AtomicInteger();

        @GetMapping("/test/edge/ping")
        String ping() {
            CALLS.incrementAndGet();
            return "pong";
        }
    }
}
