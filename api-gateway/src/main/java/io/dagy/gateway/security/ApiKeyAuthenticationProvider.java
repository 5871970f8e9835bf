package io.dagy.gateway.security;

import io.dagy.contracts.identity.ActorKind;
import io.dagy.contracts.identity.Actor;
import io.dagy.contracts.identity.Role;
import io.dagy.projection.identity.IdentityDirectory;
import io.dagy.projection.identity.IdentityDirectory.KeyGrant;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Authenticates {@code dagy_} bearer tokens: the key's SHA-256 is looked up in the directory with a strongly
 * consistent read on every request, so a revoked key is refused by every node at once. Other bearer tokens are left
 * to the JWT provider.
 */
final class ApiKeyAuthenticationProvider implements AuthenticationProvider {

    /** A key's last use is recorded at most this often per node (and once a minute overall, see the directory). */
    private static final long TOUCH_EVERY_MILLIS = 60_000;

    private final IdentityDirectory directory;
    private final Clock clock;
    private final Map<String, Long> touched = new ConcurrentHashMap<>();

    ApiKeyAuthenticationProvider(IdentityDirectory directory, Clock clock) {
        this.directory = directory;
        this.clock = clock;
    }

    /** An authenticated API key: its organization, id and role. */
    static final class ApiKeyAuthentication extends AbstractAuthenticationToken {
        private final Caller caller;

        ApiKeyAuthentication(Caller caller) {
            super(AuthorityUtils.createAuthorityList("ROLE_" + caller.role().name()));
            this.caller = caller;
            setAuthenticated(true);
        }

        Caller caller() {
            return caller;
        }

        @Override
        public Object getCredentials() {
            return ""; // the key is never kept
        }

        @Override
        public Object getPrincipal() {
            return caller.actor().id();
        }
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        String token = ((BearerTokenAuthenticationToken) authentication).getToken();
        if (!token.startsWith(ApiKeys.PREFIX)) {
            return null; // not an API key: the JWT provider decides
        }
        if (!ApiKeys.looksLikeKey(token)) {
            throw new InvalidBearerTokenException("The API key is malformed.");
        }
        Instant now = clock.instant();
        KeyGrant grant = directory.key(ApiKeys.hash(token))
                .filter(found -> found.usableAt(now))
                .orElseThrow(() -> new InvalidBearerTokenException("The API key is unknown, revoked or expired."));
        Long last = touched.get(grant.keyId().value());
        if (last == null || now.toEpochMilli() - last > TOUCH_EVERY_MILLIS) {
            touched.put(grant.keyId().value(), now.toEpochMilli());
            directory.touch(grant.org(), grant.keyId(), now);
        }
        ActorKind kind = grant.role() == Role.WORKER ? ActorKind.WORKER : ActorKind.API_KEY;
        return new ApiKeyAuthentication(new Caller(grant.org(), new Actor(kind, grant.keyId().value()), grant.role()));
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return BearerTokenAuthenticationToken.class.isAssignableFrom(authentication);
    }
}
