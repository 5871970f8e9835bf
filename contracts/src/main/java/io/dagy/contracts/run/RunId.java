package io.dagy.contracts.run;

import io.dagy.contracts.identity.OrgId;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A run's id, also its aggregate identifier: {@code r-} and up to 64 of a-z, A-Z, 0-9 and '-'. The prefix types it: no
 * other aggregate's identifier starts with {@code r-} (deployments are {@code deployment:<org>:<name>}, task runs
 * {@code <runId>/<taskId>}). Axon routes commands and associates sagas by {@link #toString()}.
 */
public record RunId(String value) {

    private static final Pattern VALID = Pattern.compile("r-[A-Za-z0-9-]{1,64}");

    public RunId {
        if (!isValid(value)) {
            throw new IllegalArgumentException("a run id is r- and 1-64 of a-z, A-Z, 0-9, '-': " + value);
        }
    }

    public static boolean isValid(String value) {
        return value != null && VALID.matcher(value).matches();
    }

    /**
     * The run an {@code Idempotency-Key} names: derived from organization, deployment and key, so every request with
     * the key names the same run and only the first can start it. The key is unique within its organization and
     * deployment; the default organization keeps the scope it had before tenancy (the deployment alone), so a key sent
     * before the upgrade still names its run.
     */
    public static RunId forIdempotencyKey(OrgId org, String deployment, String key) {
        String scope = (OrgId.DEFAULT.equals(org) ? "" : org.value() + "\n") + deployment + "\n";
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest((scope + key).getBytes(StandardCharsets.UTF_8));
            return new RunId("r-" + HexFormat.of().formatHex(digest).substring(0, 32));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return value;
    }
}
