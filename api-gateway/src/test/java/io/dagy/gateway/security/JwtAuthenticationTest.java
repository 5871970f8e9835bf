package io.dagy.gateway.security;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.support.TestOrganizations;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.json.JsonMapper;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * JWT bearer tokens of an identity provider whose keys a local HTTP server publishes as a JWKS. Only a token signed by
 * one of those keys, for our issuer and audience, current, and of a member of the organization it names, gets in.
 */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class JwtAuthenticationTest {

    private static final String ISSUER = "https://issuer.test";
    private static final String AUDIENCE = "dagy-api";
    private static RSAKey signingKey;
    private static RSAKey impostorKey;
    private static HttpServer jwks;

    @BeforeAll
    static void publishKeys() throws Exception {
        signingKey = new RSAKeyGenerator(2048).keyID("k1").generate();
        impostorKey = new RSAKeyGenerator(2048).keyID("k1").generate(); // same key id, another key
        jwks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] body = new JWKSet(signingKey.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
        jwks.createContext("/jwks.json", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        jwks.start();
    }

    @AfterAll
    static void stopJwks() {
        jwks.stop(0);
    }

    @DynamicPropertySource
    static void jwtSettings(DynamicPropertyRegistry registry) {
        registry.add("dagy.security.jwt-required", () -> "true");
        registry.add("dagy.security.jwt-issuer", () -> ISSUER);
        registry.add("dagy.security.jwt-audience", () -> AUDIENCE);
        registry.add("dagy.security.jwks-url", () -> "http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks.json");
    }

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Autowired
    JsonMapper json;

    private final HttpClient http = HttpClient.newHttpClient();

    private static JWTClaimsSet.Builder claims(String user) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().subject(user).issuer(ISSUER).audience(List.of(AUDIENCE))
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now.minusSeconds(5)))
                .expirationTime(Date.from(now.plusSeconds(300)));
    }

    private static String signed(RSAKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
                .type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private String member(Role role) {
        String user = "user_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        OrgId org = new OrgId("jwt-" + UUID.randomUUID().toString().substring(0, 8));
        new TestOrganizations(context).member(org, user, role);
        return user + "@" + org.value();
    }

    private static String user(String member) {
        return member.substring(0, member.indexOf('@'));
    }

    private static String org(String member) {
        return member.substring(member.indexOf('@') + 1);
    }

    @Test
    void aValidTokenOfAMemberReadsItsOrganization() throws Exception {
        String member = member(Role.VIEWER);
        var response = get(signed(signingKey, claims(user(member)).claim("org_id", org(member)).build()), null);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }

    @Test
    void theOrganizationMayBeNamedByHeaderInstead() throws Exception {
        String member = member(Role.VIEWER);
        var response = get(signed(signingKey, claims(user(member)).build()), org(member));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }

    @Test
    void theRoleComesFromTheMembershipNotFromTheToken() throws Exception {
        String member = member(Role.VIEWER);
        String token = signed(signingKey, claims(user(member)).claim("org_id", org(member)).claim("org_role", "org:admin").build());

        var response = send("PUT", "/v1/deployments/not-for-viewers", token, null, "{\"tasks\": []}");

        assertProblem(response, 403, "forbidden");
    }

    @Test
    void anOrganizationTheUserIsNotAMemberOfIsNotFound() throws Exception {
        String member = member(Role.OWNER);
        String stranger = member(Role.OWNER);

        var response = get(signed(signingKey, claims(user(member)).claim("org_id", org(stranger)).build()), null);

        assertProblem(response, 404, "organization_not_found");
    }

    @Test
    void aPersonTheIdentityProviderDeletedIsRefusedDespiteAValidToken() throws Exception {
        String member = member(Role.OWNER);
        String token = signed(signingKey, claims(user(member)).claim("org_id", org(member)).build());
        assertThat(get(token, null).statusCode()).isEqualTo(200);

        var commands = context.getBean(org.axonframework.commandhandling.gateway.CommandGateway.class);
        var userId = new io.dagy.contracts.user.UserId(user(member));
        commands.sendAndWait(new io.dagy.contracts.user.UserCommands.DeleteUser(userId));

        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> get(token, null).statusCode() == 401);
        assertProblem(get(token, null), 401, "unauthenticated");
    }

    @Test
    void anExpiredTokenIsRefused() throws Exception {
        String member = member(Role.VIEWER);
        Instant past = Instant.now().minusSeconds(3600);
        var response = get(signed(signingKey, claims(user(member)).claim("org_id", org(member))
                .issueTime(Date.from(past.minusSeconds(600))).notBeforeTime(Date.from(past.minusSeconds(600)))
                .expirationTime(Date.from(past)).build()), null);

        assertProblem(response, 401, "unauthenticated");
    }

    @Test
    void aTokenNotYetValidIsRefused() throws Exception {
        String member = member(Role.VIEWER);
        Instant future = Instant.now().plusSeconds(3600);
        var response = get(signed(signingKey, claims(user(member)).claim("org_id", org(member))
                .notBeforeTime(Date.from(future)).expirationTime(Date.from(future.plusSeconds(600))).build()), null);

        assertProblem(response, 401, "unauthenticated");
    }

    @Test
    void aTokenOfAnotherIssuerIsRefused() throws Exception {
        String member = member(Role.VIEWER);
        var response = get(signed(signingKey, claims(user(member)).claim("org_id", org(member))
                .issuer("https://elsewhere.test").build()), null);

        assertProblem(response, 401, "unauthenticated");
    }

    @Test
    void aTokenForAnotherAudienceIsRefused() throws Exception {
        String member = member(Role.VIEWER);
        var response = get(signed(signingKey, claims(user(member)).claim("org_id", org(member))
                .audience("another-api").build()), null);

        assertProblem(response, 401, "unauthenticated");
    }

    @Test
    void aTokenSignedByAnotherKeyIsRefused() throws Exception {
        String member = member(Role.VIEWER);
        var response = get(signed(impostorKey, claims(user(member)).claim("org_id", org(member)).build()), null);

        assertProblem(response, 401, "unauthenticated");
    }

    @Test
    void anUnsignedTokenIsRefused() throws Exception {
        String member = member(Role.VIEWER);
        String none = new PlainJWT(claims(user(member)).claim("org_id", org(member)).build()).serialize();

        assertProblem(get(none, null), 401, "unauthenticated");
    }

    @Test
    void anHmacSignedTokenIsRefusedEvenWithThePublicKeyAsSecret() throws Exception {
        String member = member(Role.VIEWER);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k1").build(),
                claims(user(member)).claim("org_id", org(member)).build());
        jwt.sign(new MACSigner(signingKey.toPublicJWK().toRSAPublicKey().getEncoded()));

        assertProblem(get(jwt.serialize(), null), 401, "unauthenticated");
    }

    @Test
    void aTokenWithAnUnknownKeyIdIsRefused() throws Exception {
        String member = member(Role.VIEWER);
        RSAKey unknown = new RSAKeyGenerator(2048).keyID("k-unknown").generate();

        assertProblem(get(signed(unknown, claims(user(member)).claim("org_id", org(member)).build()), null), 401,
                "unauthenticated");
    }

    @Test
    void aSignedInPersonCreatesAnOrganizationAndOwnsIt() throws Exception {
        String user = "user_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String org = "new-" + UUID.randomUUID().toString().substring(0, 8);
        String token = signed(signingKey, claims(user).build());

        var created = send("POST", "/v1/organizations", token, null, "{\"id\": \"" + org + "\", \"name\": \"New\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(json.readTree(created.body()).get("role").asString()).isEqualTo("owner");

        var keys = send("POST", "/v1/api-keys", token, org, "{\"name\": \"ci\", \"role\": \"developer\"}");
        assertThat(keys.statusCode()).as(keys.body()).isEqualTo(201);

        var events = context.getBean(org.axonframework.eventsourcing.eventstore.EventStorageEngine.class)
                .readEvents("organization:" + org).asStream().toList();
        assertThat(events).isNotEmpty().allSatisfy(event -> assertThat(event.getMetaData())
                .containsEntry("org_id", org).containsEntry("actor_kind", "user").containsEntry("actor_id", user));
    }

    @Test
    void theDefaultOrganizationCannotBeClaimed() throws Exception {
        String user = "user_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String token = signed(signingKey, claims(user).build());

        var claimed = send("POST", "/v1/organizations", token, null, "{\"id\": \"default\", \"name\": \"Mine\"}");

        assertProblem(claimed, 409, "concurrent_modification");
        assertProblem(get(signed(signingKey, claims(user).claim("org_id", "default").build()), null), 404,
                "organization_not_found");
    }

    private HttpResponse<String> get(String token, String orgHeader) throws Exception {
        return send("GET", "/v1/deployments", token, orgHeader, null);
    }

    private HttpResponse<String> send(String method, String path, String token, String orgHeader, String body)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (orgHeader != null) {
            request.header("X-Dagy-Org", orgHeader);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private void assertProblem(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(json.readTree(response.body()).get("code").asString()).isEqualTo(code);
    }
}
