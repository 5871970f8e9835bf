package io.dagy.gateway.clerk;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemException;
import org.springframework.http.HttpStatus;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;

/**
 * Checks a webhook delivery signed the way Clerk signs (Svix): {@code svix-signature} lists {@code v1,<base64>}
 * entries separated by spaces, each an HMAC-SHA256 of {@code <svix-id>.<svix-timestamp>.<raw body>} under the key
 * that the secret {@code whsec_<base64>} encodes. A delivery passes when any {@code v1} entry matches (the provider
 * signs with old and new secret while one is rotated) and its timestamp is within five minutes of this node's clock.
 * Without a secret, nothing passes.
 */
final class SvixSignature {

    static final Duration TOLERANCE = Duration.ofMinutes(5);
    private static final String SECRET_PREFIX = "whsec_";
    private static final String ALGORITHM = "HmacSHA256";

    private final Optional<SecretKeySpec> key;
    private final Clock clock;

    private SvixSignature(Optional<SecretKeySpec> key, Clock clock) {
        this.key = key;
        this.clock = clock;
    }

    /**
     * @param secret the configured {@code whsec_<base64>}, or blank for none
     * @throws IllegalArgumentException when a secret is set but is not {@code whsec_} and base64 (a typo should stop
     *                                  the start, not fail every delivery)
     */
    static SvixSignature of(String secret, Clock clock) {
        if (secret == null || secret.isBlank()) {
            return new SvixSignature(Optional.empty(), clock);
        }
        String trimmed = secret.strip();
        if (!trimmed.startsWith(SECRET_PREFIX)) {
            throw new IllegalArgumentException("must start with '" + SECRET_PREFIX + "' (copy it from the Clerk dashboard)");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(trimmed.substring(SECRET_PREFIX.length()));
        } catch (IllegalArgumentException notBase64) {
            throw new IllegalArgumentException("the part after '" + SECRET_PREFIX + "' is not base64");
        }
        if (bytes.length == 0) {
            throw new IllegalArgumentException("the part after '" + SECRET_PREFIX + "' is empty");
        }
        return new SvixSignature(Optional.of(new SecretKeySpec(bytes, ALGORITHM)), clock);
    }

    boolean configured() {
        return key.isPresent();
    }

    /**
     * Returns when the delivery is authentic and fresh.
     *
     * @throws ProblemException 401 {@code invalid_signature}, saying which check failed (never anything secret)
     */
    void verify(String id, String timestamp, String signatures, byte[] body) {
        if (key.isEmpty()) {
            throw refused("No webhook secret is configured (DAGY_CLERK_WEBHOOK_SECRET); every delivery is refused.");
        }
        if (isBlank(id) || isBlank(timestamp) || isBlank(signatures)) {
            throw refused("The headers svix-id, svix-timestamp and svix-signature are required.");
        }
        Instant signedAt = parseSeconds(timestamp);
        Instant now = clock.instant();
        if (signedAt.isBefore(now.minus(TOLERANCE)) || signedAt.isAfter(now.plus(TOLERANCE))) {
            throw refused("The delivery's timestamp is more than " + TOLERANCE.toMinutes()
                    + " minutes away from this server's clock.");
        }
        byte[] expected = hmac(key.get(), id, timestamp, body);
        for (String entry : signatures.trim().split(" +")) {
            int comma = entry.indexOf(',');
            if (comma < 0 || !"v1".equals(entry.substring(0, comma))) {
                continue; // another scheme (or garbage): not ours to check
            }
            byte[] given;
            try {
                given = Base64.getDecoder().decode(entry.substring(comma + 1));
            } catch (IllegalArgumentException notBase64) {
                continue;
            }
            if (MessageDigest.isEqual(expected, given)) {
                return;
            }
        }
        throw refused("No signature of the delivery matches.");
    }

    private static Instant parseSeconds(String timestamp) {
        try {
            return Instant.ofEpochSecond(Long.parseLong(timestamp.trim()));
        } catch (NumberFormatException | java.time.DateTimeException notSeconds) {
            throw refused("svix-timestamp is not a time in Unix seconds.");
        }
    }

    private static byte[] hmac(SecretKeySpec key, String id, String timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return mac.doFinal(body);
        } catch (GeneralSecurityException unavailable) {
            throw new IllegalStateException("HmacSHA256 is not available", unavailable);
        }
    }

    private static ProblemException refused(String detail) {
        return new ProblemException(HttpStatus.UNAUTHORIZED, ErrorCode.INVALID_SIGNATURE, detail);
    }

    private static boolean isBlank(String value) {
        return value == null || value.isBlank();
    }
}
