package io.dagy.gateway.security;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How callers authenticate (docs/security.md). API keys always work; JWT bearer tokens only when
 * {@code DAGY_JWT_REQUIRED=true}, which then requires the issuer, the audience and the JWKS URL. No setting turns
 * authentication off.
 *
 * @param jwtRequired {@code DAGY_JWT_REQUIRED}: accept JWTs of the identity provider
 * @param jwtIssuer   {@code DAGY_JWT_ISSUER}: the {@code iss} every token must carry
 * @param jwtAudience {@code DAGY_JWT_AUDIENCE}: a value every token's {@code aud} must contain
 * @param jwksUrl     {@code DAGY_JWKS_URL}: where the provider publishes its signing keys
 * @param orgClaim    {@code DAGY_JWT_ORG_CLAIM}: the claim naming the organization (Clerk: {@code org_id})
 */
@ConfigurationProperties("dagy.security")
public record SecurityProperties(
        @DefaultValue("false") boolean jwtRequired,
        String jwtIssuer,
        String jwtAudience,
        String jwksUrl,
        @DefaultValue("org_id") String orgClaim) {
}
