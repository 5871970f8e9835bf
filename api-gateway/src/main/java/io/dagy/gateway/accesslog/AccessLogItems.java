package io.dagy.gateway.accesslog;

import io.dagy.tables.DagyTable;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Map;

/**
 * The items of {@link DagyTable#ACCESS_LOGS}, the one place their layout is written down.
 *
 * <p>{@code pk} is the organization (or {@code anonymous}) and the UTC day, {@code 2026-03-01}, so one day of one
 * organization is one query; {@code sk} is the arrival time to the millisecond, fixed width so that it sorts, then
 * the request id: {@code 2026-03-01T12:00:00.042Z#<uuid>}. {@code expires_at} (epoch seconds) is the table's time to
 * live. An organization's id may be {@code anonymous} too: its records still differ by their {@code org}
 * attribute, which anonymous ones lack.
 */
final class AccessLogItems {

    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("uuuu-MM-dd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private AccessLogItems() {
    }

    static String partitionKey(String organization, Instant timestamp) {
        return (organization == null ? AccessLogEntry.ANONYMOUS : organization) + "#" + DAY.format(timestamp);
    }

    static Map<String, AttributeValue> item(AccessLogEntry entry, Duration timeToLive) {
        String time = TIME.format(entry.timestamp());
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("pk", AttributeValue.fromS(partitionKey(entry.organization(), entry.timestamp())));
        item.put("sk", AttributeValue.fromS(time + "#" + entry.requestId()));
        item.put("timestamp", AttributeValue.fromS(time));
        item.put("request_id", AttributeValue.fromS(entry.requestId()));
        item.put("method", AttributeValue.fromS(entry.method()));
        item.put("path", AttributeValue.fromS(entry.path()));
        item.put("status", AttributeValue.fromN(Integer.toString(entry.status())));
        item.put("latency_ms", AttributeValue.fromN(Long.toString(entry.latencyMillis())));
        item.put("actor", AttributeValue.fromS(entry.actor()));
        if (entry.organization() != null) {
            item.put("org", AttributeValue.fromS(entry.organization()));
        }
        item.put("client_ip", AttributeValue.fromS(entry.clientIp()));
        if (entry.userAgent() != null && !entry.userAgent().isEmpty()) {
            item.put("user_agent", AttributeValue.fromS(entry.userAgent()));
        }
        item.put("expires_at", AttributeValue.fromN(Long.toString(entry.timestamp().plus(timeToLive).getEpochSecond())));
        return item;
    }
}
