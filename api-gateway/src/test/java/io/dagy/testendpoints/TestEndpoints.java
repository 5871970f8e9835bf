package io.dagy.testendpoints;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;

/**
 * Routes that exist only in tests: a JSON endpoint to send bad bodies to, and a filter that fails the way security
 * and rate-limit filters will. Kept outside {@code io.dagy.gateway} so component scanning never picks them up.
 */
@TestConfiguration
@Import(TestEndpoints.EchoController.class)
public class TestEndpoints {

    @Bean
    FilterRegistrationBean<OncePerRequestFilter> failingFilter() {
        FilterRegistrationBean<OncePerRequestFilter> registration = new FilterRegistrationBean<>(new OncePerRequestFilter() {
            @Override
            protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                    throws ServletException, IOException {
                switch (request.getRequestURI()) {
                    case "/test/filter/rejects" -> throw new ProblemException(HttpStatus.TOO_MANY_REQUESTS,
                            ErrorCode.BAD_REQUEST, "rejected by a filter");
                    case "/test/filter/crashes" -> throw new IllegalStateException("secret internal detail");
                    default -> chain.doFilter(request, response);
                }
            }
        });
        registration.addUrlPatterns("/test/filter/*");
        return registration;
    }

    public record Echo(String name, int count) {
    }

    @RestController
    public static class EchoController {
        @PostMapping("/test/conflict")
        void conflict() {
            throw new org.axonframework.modelling.command.ConcurrencyException("sequence 3 of run-1 exists");
        }

        @PostMapping(path = "/test/echo", consumes = "application/json")
        Echo echo(@RequestBody Echo echo) {
            return echo;
        }
    }
}
