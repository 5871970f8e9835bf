package io.dagy.gateway.security;

import io.dagy.gateway.settings.DagyResources;
import io.dagy.projection.identity.IdentityDirectory;
import io.dagy.projection.identity.IdentityDirectoryProjection;
import io.dagy.projection.user.UserDirectory;
import io.dagy.tables.DagyTable;
import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.Problems;
import jakarta.servlet.DispatcherType;
import org.springframework.http.HttpStatus;
import org.springframework.security.web.firewall.RequestRejectedHandler;
import io.dagy.gateway.settings.InvalidSettingsException;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider;
import org.springframework.security.oauth2.server.resource.web.authentication.BearerTokenAuthenticationFilter;
import org.springframework.security.web.SecurityFilterChain;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import io.dagy.gateway.problem.ProblemWriter;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Nothing is anonymous but health and signed webhooks. A bearer token is an API key ({@code dagy_...}) or, when
 * {@code DAGY_JWT_REQUIRED=true}, a JWT of the identity provider, checked by Spring Security's resource server
 * (signature against the JWKS, issuer, audience, expiry, not-before; only asymmetric algorithms, so {@code none} and
 * HMAC tokens are refused). {@link CallerFilter} then names the caller's organization and role, and
 * {@link PermissionAuthorizationManager} decides with the {@link ApiRoutes} table.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(SecurityProperties.class)
class SecurityConfiguration {

    /** Signature algorithms a JWT may use: asymmetric only. */
    private static final Set<SignatureAlgorithm> ASYMMETRIC = Set.of(SignatureAlgorithm.RS256, SignatureAlgorithm.RS384,
            SignatureAlgorithm.RS512, SignatureAlgorithm.ES256, SignatureAlgorithm.ES384, SignatureAlgorithm.ES512,
            SignatureAlgorithm.PS256, SignatureAlgorithm.PS384, SignatureAlgorithm.PS512);

    @Bean
    IdentityDirectory identityDirectory(DynamoDbClient dynamoDb, DagyResources resources) {
        return new IdentityDirectory(dynamoDb, resources.table(DagyTable.ORGANIZATIONS),
                resources.table(DagyTable.MEMBERSHIPS), resources.table(DagyTable.API_KEYS));
    }

    @Bean
    IdentityDirectoryProjection identityDirectoryProjection(IdentityDirectory directory) {
        return new IdentityDirectoryProjection(directory);
    }

    @Bean
    SecurityProblems securityProblems(ProblemWriter writer) {
        return new SecurityProblems(writer);
    }

    /** The JWT decoder; every setting it needs is required when JWTs are accepted. */
    private static JwtDecoder jwtDecoder(SecurityProperties settings) {
        List<String> missing = new ArrayList<>();
        if (blank(settings.jwtIssuer())) {
            missing.add("DAGY_JWT_ISSUER");
        }
        if (blank(settings.jwtAudience())) {
            missing.add("DAGY_JWT_AUDIENCE");
        }
        if (blank(settings.jwksUrl())) {
            missing.add("DAGY_JWKS_URL");
        }
        if (!missing.isEmpty()) {
            throw new InvalidSettingsException("any", missing.stream()
                    .map(variable -> variable + " is required when DAGY_JWT_REQUIRED=true").toList());
        }
        NimbusJwtDecoder decoder = NimbusJwtDecoder.withJwkSetUri(settings.jwksUrl())
                .jwsAlgorithms(algorithms -> {
                    algorithms.clear();
                    algorithms.addAll(ASYMMETRIC);
                })
                .build();
        decoder.setJwtValidator(new DelegatingOAuth2TokenValidator<>(
                JwtValidators.createDefaultWithIssuer(settings.jwtIssuer()),
                new JwtClaimValidator<Collection<String>>(JwtClaimNames.AUD,
                        audience -> audience != null && audience.contains(settings.jwtAudience()))));
        return decoder;
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }

    /**
     * A request Spring Security's firewall refuses (an encoded slash or dot segment, a percent-encoded NUL) is a 400
     * problem; by default it would reach the error page as a 500.
     */
    @Bean
    RequestRejectedHandler requestRejectedHandler(ProblemWriter writer) {
        return (request, response, rejected) -> writer.write(request, response, Problems.of(HttpStatus.BAD_REQUEST,
                ErrorCode.BAD_REQUEST, "The request path or headers are not acceptable (encoded slashes, dot segments or "
                        + "control characters)."));
    }

    @Bean
    SecurityFilterChain dagySecurity(HttpSecurity http, IdentityDirectory directory, UserDirectory users,
                                     SecurityProperties settings, SecurityProblems problems) throws Exception {
        List<AuthenticationProvider> providers = new ArrayList<>();
        providers.add(new ApiKeyAuthenticationProvider(directory, Clock.systemUTC()));
        if (settings.jwtRequired()) {
            providers.add(new JwtAuthenticationProvider(jwtDecoder(settings)));
        }
        AuthenticationManager bearer = new ProviderManager(providers);
        http.csrf(csrf -> csrf.disable())
                .httpBasic(basic -> basic.disable())
                .formLogin(form -> form.disable())
                .logout(logout -> logout.disable())
                .requestCache(cache -> cache.disable())
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .oauth2ResourceServer(resourceServer -> resourceServer
                        .authenticationManagerResolver(request -> bearer)
                        .authenticationEntryPoint(problems)
                        .accessDeniedHandler(problems))
                .exceptionHandling(exceptions -> exceptions.authenticationEntryPoint(problems).accessDeniedHandler(problems))
                .authorizeHttpRequests(requests -> requests
                        .dispatcherTypeMatchers(DispatcherType.ERROR, DispatcherType.ASYNC).permitAll()
                        .anyRequest().access(new PermissionAuthorizationManager()))
                .addFilterAfter(new CallerFilter(directory, users, settings.orgClaim(), problems),
                        BearerTokenAuthenticationFilter.class);
        return http.build();
    }
}
