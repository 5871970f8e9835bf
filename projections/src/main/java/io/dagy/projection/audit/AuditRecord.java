package io.dagy.projection.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One record of the audit log (the deployment guide's schema, docs/audit.md), chained: {@code seq} is its place in
 * its organization's chain, {@code prevHash} the hash of the record before it ({@link #GENESIS} for the first), and
 * {@code hash} the SHA-256 of its {@link #canonical() canonical text}, which covers every other field.
 *
 * <p>No field ever holds a secret: the projection copies only names, ids, roles, versions and settings, never a
 * key, its hash or prefix, a token, run parameters or task output.
 */
public record AuditRecord(String auditId, long seq, Instant timestamp, String orgId, String userId, String actorKind,
                          String action, String resourceType, String resourceId, SortedMap<String, Change> changes,
                          String ipAddress, String userAgent, String status, String reason, String prevHash,
                          String hash) {

    /** The {@code prevHash} of an organization's first record. */
    public static final String GENESIS = "0".repeat(64);
    public static final String SUCCESS = "success";
    public static final String FAILURE = "failure";

    public AuditRecord {
        Objects.requireNonNull(auditId, "auditId");
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(orgId, "orgId");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(status, "status");
        changes = Collections.unmodifiableSortedMap(new TreeMap<>(changes));
    }

    /** A changed field: its value before and after the action, either null. */
    public record Change(String oldValue, String newValue) {
    }

    /** The record as the projection derives it from an event, before it has a place in the chain. */
    public static AuditRecord draft(String auditId, Instant timestamp, String orgId, String userId, String actorKind,
                                    String action, String resourceType, String resourceId, Map<String, Change> changes,
                                    String ipAddress, String userAgent, String status, String reason) {
        return new AuditRecord(auditId, 0, timestamp, orgId, userId, actorKind, action, resourceType, resourceId,
                new TreeMap<>(changes), ipAddress, userAgent, status, reason, null, null);
    }

    /** This record at place {@code seq} after a record whose hash is {@code prevHash}, with its own hash computed. */
    public AuditRecord chainedAfter(long seq, String prevHash) {
        AuditRecord unhashed = new AuditRecord(auditId, seq, timestamp, orgId, userId, actorKind, action, resourceType,
                resourceId, changes, ipAddress, userAgent, status, reason, prevHash, null);
        return new AuditRecord(auditId, seq, timestamp, orgId, userId, actorKind, action, resourceType, resourceId,
                changes, ipAddress, userAgent, status, reason, prevHash, sha256(unhashed.canonical()));
    }

    /** The hash this record's fields give (equals {@link #hash} unless the stored record was changed). */
    public String computedHash() {
        return sha256(canonical());
    }

    /** Every field but the hash, as JSON with a fixed key order and no whitespace: what the hash is taken over. */
    public String canonical() {
        StringBuilder text = new StringBuilder("{");
        field(text, "v", "1");
        field(text, "seq", Long.toString(seq));
        field(text, "prev_hash", prevHash);
        field(text, "audit_id", auditId);
        field(text, "timestamp", timestamp.toString());
        field(text, "org_id", orgId);
        field(text, "user_id", userId);
        field(text, "actor_kind", actorKind);
        field(text, "action", action);
        field(text, "resource_type", resourceType);
        field(text, "resource_id", resourceId);
        text.append("\"changes\":").append(changesJson()).append(',');
        field(text, "ip_address", ipAddress);
        field(text, "user_agent", userAgent);
        field(text, "status", status);
        field(text, "reason", reason);
        text.setLength(text.length() - 1);
        return text.append('}').toString();
    }

    /** {@code changes} as canonical JSON: keys sorted, {@code {"old": …, "new": …}} per field. */
    public String changesJson() {
        StringBuilder json = new StringBuilder("{");
        changes.forEach((name, change) -> {
            json.append(quote(name)).append(":{");
            json.append("\"old\":").append(quote(change.oldValue())).append(',');
            json.append("\"new\":").append(quote(change.newValue())).append("},");
        });
        if (json.length() > 1) {
            json.setLength(json.length() - 1);
        }
        return json.append('}').toString();
    }

    private static void field(StringBuilder text, String name, String value) {
        text.append(quote(name)).append(':').append(quote(value)).append(',');
    }

    static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder quoted = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> quoted.append("\\\"");
                case '\\' -> quoted.append("\\\\");
                case '\n' -> quoted.append("\\n");
                case '\r' -> quoted.append("\\r");
                case '\t' -> quoted.append("\\t");
                default -> {
                    if (c < 0x20) {
                        quoted.append(String.format("\\u%04x", (int) c));
                    } else {
                        quoted.append(c);
                    }
                }
            }
        }
        return quoted.append('"').toString();
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
