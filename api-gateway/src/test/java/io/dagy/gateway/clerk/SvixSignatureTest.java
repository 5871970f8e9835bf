package io.dagy.gateway.clerk;

import io.dagy.gateway.problem.ProblemException;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SvixSignatureTest {

    /** Svix's own example (docs.svix.com, "Verifying payloads manually"), also checked with Python's hmac module. */
    private static final String SVIX_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static final String SVIX_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private static final String SVIX_TIMESTAMP = "1614265330";
    private static final byte[] SVIX_BODY = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
    private static final String SVIX_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    private static final Instant SIGNED_AT = Instant.ofEpochSecond(Long.parseLong(SVIX_TIMESTAMP));

    private static final byte[] KEY = "a key of thirty-two bytes, or so".getBytes(StandardCharsets.UTF_8);
    private static final String SECRET = "whsec_" + Base64.getEncoder().encodeToString(KEY);
    private static final byte[] BODY = "{\"type\":\"user.created\",\"data\":{\"id\":\"user_1\"}}".getBytes(StandardCharsets.UTF_8);

    private static SvixSignature at(String secret, Instant now) {
        return SvixSignature.of(secret, Clock.fixed(now, ZoneOffset.UTC));
    }

    /** The signature computed here, independently of the code under test. */
    private static String sign(byte[] key, String id, String timestamp, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        byte[] signed = (id + "." + timestamp + "." + new String(body, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(signed));
    }

    private static void assertRefused(Runnable verification, String detail) {
        assertThatThrownBy(verification::run).isInstanceOfSatisfying(ProblemException.class, problem -> {
            assertThat(problem.status().value()).isEqualTo(401);
            assertThat(problem.code().code()).isEqualTo("invalid_signature");
            assertThat(problem.getMessage()).contains(detail);
        });
    }

    @Test
    void svixsPublishedExampleVerifies() {
        assertThatCode(() -> at(SVIX_SECRET, SIGNED_AT).verify(SVIX_ID, SVIX_TIMESTAMP, SVIX_SIGNATURE, SVIX_BODY))
                .doesNotThrowAnyException();
    }

    @Test
    void aSignatureComputedWithJavaxCryptoVerifies() throws Exception {
        String signature = sign(KEY, "msg_1", "1700000000", BODY);

        assertThatCode(() -> at(SECRET, Instant.ofEpochSecond(1700000000)).verify("msg_1", "1700000000", signature, BODY))
                .doesNotThrowAnyException();
    }

    @Test
    void anyMatchingV1SignatureAmongSeveralIsEnough() throws Exception {
        String valid = sign(KEY, "msg_1", "1700000000", BODY);
        String header = "v1,bm90IHRoZSBzaWduYXR1cmU= v1a,xyz " + valid + " v1,%%%";

        assertThatCode(() -> at(SECRET, Instant.ofEpochSecond(1700000000)).verify("msg_1", "1700000000", header, BODY))
                .doesNotThrowAnyException();
    }

    @Test
    void aValidSignatureUnderAnotherSchemeThanV1DoesNotCount() throws Exception {
        String otherScheme = sign(KEY, "msg_1", "1700000000", BODY).replace("v1,", "v2,");

        assertRefused(() -> at(SECRET, Instant.ofEpochSecond(1700000000)).verify("msg_1", "1700000000", otherScheme, BODY),
                "No signature");
    }

    @Test
    void aChangedBodyIsRefused() {
        byte[] tampered = "{\"test\": 2432232315}".getBytes(StandardCharsets.UTF_8);

        assertRefused(() -> at(SVIX_SECRET, SIGNED_AT).verify(SVIX_ID, SVIX_TIMESTAMP, SVIX_SIGNATURE, tampered),
                "No signature");
    }

    @Test
    void aChangedIdIsRefused() {
        assertRefused(() -> at(SVIX_SECRET, SIGNED_AT).verify("msg_other", SVIX_TIMESTAMP, SVIX_SIGNATURE, SVIX_BODY),
                "No signature");
    }

    @Test
    void aSignatureUnderAnotherSecretIsRefused() {
        assertRefused(() -> at(SECRET, SIGNED_AT).verify(SVIX_ID, SVIX_TIMESTAMP, SVIX_SIGNATURE, SVIX_BODY),
                "No signature");
    }

    @Test
    void aTimestampFiveMinutesOldIsStillAccepted() {
        assertThatCode(() -> at(SVIX_SECRET, SIGNED_AT.plusSeconds(300))
                .verify(SVIX_ID, SVIX_TIMESTAMP, SVIX_SIGNATURE, SVIX_BODY)).doesNotThrowAnyException();
    }

    @Test
    void aTimestampMoreThanFiveMinutesOldIsRefused() {
        assertRefused(() -> at(SVIX_SECRET, SIGNED_AT.plusSeconds(301))
                .verify(SVIX_ID, SVIX_TIMESTAMP, SVIX_SIGNATURE, SVIX_BODY), "timestamp");
    }

    @Test
    void aTimestampMoreThanFiveMinutesAheadIsRefused() {
        assertRefused(() -> at(SVIX_SECRET, SIGNED_AT.minusSeconds(301))
                .verify(SVIX_ID, SVIX_TIMESTAMP, SVIX_SIGNATURE, SVIX_BODY), "timestamp");
    }

    @Test
    void aTimestampThatIsNotUnixSecondsIsRefused() {
        assertRefused(() -> at(SVIX_SECRET, SIGNED_AT)
                .verify(SVIX_ID, "2021-02-25T15:02:10Z", SVIX_SIGNATURE, SVIX_BODY), "Unix seconds");
    }

    @Test
    void aMissingHeaderIsRefused() {
        SvixSignature signature = at(SVIX_SECRET, SIGNED_AT);

        assertRefused(() -> signature.verify(null, SVIX_TIMESTAMP, SVIX_SIGNATURE, SVIX_BODY), "required");
        assertRefused(() -> signature.verify(SVIX_ID, " ", SVIX_SIGNATURE, SVIX_BODY), "required");
        assertRefused(() -> signature.verify(SVIX_ID, SVIX_TIMESTAMP, null, SVIX_BODY), "required");
    }

    @Test
    void withoutASecretEveryDeliveryIsRefused() {
        assertRefused(() -> at("", SIGNED_AT).verify(SVIX_ID, SVIX_TIMESTAMP, SVIX_SIGNATURE, SVIX_BODY),
                "No webhook secret");
        assertRefused(() -> at(null, SIGNED_AT).verify(SVIX_ID, SVIX_TIMESTAMP, SVIX_SIGNATURE, SVIX_BODY),
                "No webhook secret");
    }

    @Test
    void aSecretThatIsNotWhsecAndBase64IsASettingsError() {
        assertThatIllegalArgumentException().isThrownBy(() -> at("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SIGNED_AT))
                .withMessageContaining("whsec_");
        assertThatIllegalArgumentException().isThrownBy(() -> at("whsec_not base64!", SIGNED_AT))
                .withMessageContaining("base64");
        assertThatIllegalArgumentException().isThrownBy(() -> at("whsec_", SIGNED_AT))
                .withMessageContaining("empty");
    }
}
