package io.dagy.gateway.security;

import io.dagy.contracts.identity.ApiKeyId;
import org.apache.commons.codec.binary.Base32;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * API keys: {@code dagy_} and the base32 of 32 random bytes (56 characters with padding). A key is shown once, when it
 * is created; Dagy keeps only its SHA-256. A fast hash is enough here, unlike for passwords: a key carries 256 random
 * bits, so no guess can be checked against the hash in any useful time, and a slow hash would cost every request
 * (decision 27 in docs/decisions.md has the figures).
 */
public final class ApiKeys {

    public static final String PREFIX = "dagy_";
    /** Characters of a key listings show: {@code dagy_} and 8 of the random part. */
    private static final int DISPLAY_PREFIX = PREFIX.length() + 8;
    private static final Pattern SHAPE = Pattern.compile("dagy_[A-Z2-7]{52}={4}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiKeys() {
    }

    /** A new key and what the organization records of it. */
    public record NewKey(String key, ApiKeyId id, String prefix, String hash) {
        @Override
        public String toString() {
            return "NewKey[" + id + ", " + prefix + "…]"; // never the key itself
        }
    }

    public static NewKey generate() {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String key = PREFIX + new Base32().encodeAsString(secret);
        byte[] id = new byte[8];
        RANDOM.nextBytes(id);
        return new NewKey(key, new ApiKeyId("key_" + HexFormat.of().formatHex(id)), key.substring(0, DISPLAY_PREFIX),
                hash(key));
    }

    /** Whether a presented token has the shape of a key at all (checked before any lookup). */
    public static boolean looksLikeKey(String token) {
        return token != null && SHAPE.matcher(token).matches();
    }

    public static String hash(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
