package io.dagy.gateway.billing;

import io.dagy.contracts.identity.OrgId;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The record of usage reported to Stripe, in {@code DAGY_SUBSCRIPTIONS}: per organization, hour and meter one item
 * {@code pk = "meter-report#<org>"}, {@code sk = "<hour>#<meter>"} with its identifier, value, {@code state}
 * ({@code claimed}, {@code sent}, {@code failed}), attempts, the next attempt's time and the last error. A report is
 * claimed by a conditional write before it is sent (one node sends at a time; a claim lapses after
 * {@value #CLAIM_SECONDS} s, so a node that died mid-report is taken over) and marked sent after Stripe answered.
 * Whatever happens between the two, the retry sends the same identifier, which Stripe keeps once.
 */
final class MeterReports {

    static final long CLAIM_SECONDS = 60;
    static final String SENT = "sent";
    static final String CLAIMED = "claimed";
    static final String FAILED = "failed";
    private static final Duration FIRST_RETRY = Duration.ofSeconds(30);
    private static final Duration LAST_RETRY = Duration.ofHours(1);

    /**
     * One report as recorded; {@code correctionOf}: for a correction, what had been sent for the hour's meter before
     * it (decision 104), else null.
     */
    record Report(String hour, String meter, Long correctionOf, String identifier, long value, String state,
                  int attempts, Instant nextAttemptAt, Instant sentAt, String lastError) {
    }

    private final DynamoDbClient dynamoDb;
    private final String table;

    MeterReports(DynamoDbClient dynamoDb, String table) {
        this.dynamoDb = dynamoDb;
        this.table = table;
    }

    /** The identifier Stripe deduplicates by: the same organization, meter and hour always give the same one. */
    static String identifier(OrgId org, String meter, String hour) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((org.value() + "\n" + meter + "\n" + hour).getBytes(StandardCharsets.UTF_8));
            return "dagy_" + HexFormat.of().formatHex(digest).substring(0, 48);
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    /**
     * The report, in place of a meter's name, of what an hour's meter grew by after {@code reported} had been sent
     * (decision 104): its own record, claim and identifier, so it too is sent once and retried alone.
     */
    static String correction(String meter, long reported) {
        return meter + "#" + reported;
    }

    /** The delay before attempt {@code attempts + 1}: 30 s doubling to at most an hour. */
    static Duration backoff(int attempts) {
        Duration delay = FIRST_RETRY.multipliedBy(1L << Math.min(attempts - 1, 20));
        return delay.compareTo(LAST_RETRY) > 0 ? LAST_RETRY : delay;
    }

    /**
     * Claims the report for sending, and answers the value to send: {@code value} on its first claim, and on every
     * later one the value of that first, since Stripe may have kept an attempt whose answer was lost and keeps one
     * event per identifier (what the hour gained since goes in a correction, decision 104). Empty if it was sent, is
     * claimed by a live node, or waits for its retry time.
     */
    java.util.OptionalLong claim(OrgId org, String hour, String meter, long value, Instant now) {
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":claimed", AttributeValue.fromS(CLAIMED));
        values.put(":sent", AttributeValue.fromS(SENT));
        values.put(":now", AttributeValue.fromN(Long.toString(now.toEpochMilli())));
        values.put(":until", AttributeValue.fromN(Long.toString(now.plusSeconds(CLAIM_SECONDS).toEpochMilli())));
        values.put(":value", AttributeValue.fromN(Long.toString(value)));
        values.put(":id", AttributeValue.fromS(identifier(org, meter, hour)));
        try {
            var claimed = dynamoDb.updateItem(b -> b.tableName(table).key(key(org, hour, meter))
                    .updateExpression("SET #state = :claimed, claim_until = :until, "
                            + "#value = if_not_exists(#value, :value), identifier = :id")
                    .conditionExpression("attribute_not_exists(pk) OR (#state <> :sent AND claim_until <= :now "
                            + "AND (attribute_not_exists(next_attempt_at) OR next_attempt_at <= :now))")
                    .expressionAttributeNames(Map.of("#state", "state", "#value", "value"))
                    .expressionAttributeValues(values)
                    .returnValues(software.amazon.awssdk.services.dynamodb.model.ReturnValue.UPDATED_NEW));
            return java.util.OptionalLong.of(Long.parseLong(claimed.attributes().get("value").n()));
        } catch (ConditionalCheckFailedException notNow) {
            return java.util.OptionalLong.empty();
        }
    }

    void sent(OrgId org, String hour, String meter, Instant now) {
        dynamoDb.updateItem(b -> b.tableName(table).key(key(org, hour, meter))
                .updateExpression("SET #state = :sent, sent_at = :now, claim_until = :zero REMOVE next_attempt_at, last_error")
                .expressionAttributeNames(Map.of("#state", "state"))
                .expressionAttributeValues(Map.of(":sent", AttributeValue.fromS(SENT),
                        ":now", AttributeValue.fromS(now.toString()), ":zero", AttributeValue.fromN("0"))));
    }

    /** Records a failed attempt and when to try again. */
    void failed(OrgId org, String hour, String meter, Instant now, String error) {
        int attempts = find(org, hour, meter).map(Report::attempts).orElse(0) + 1;
        dynamoDb.updateItem(b -> b.tableName(table).key(key(org, hour, meter))
                .updateExpression("SET #state = :failed, attempts = :attempts, next_attempt_at = :next, "
                        + "last_error = :error, claim_until = :zero")
                .conditionExpression("#state <> :sent")
                .expressionAttributeNames(Map.of("#state", "state"))
                .expressionAttributeValues(Map.of(":failed", AttributeValue.fromS(FAILED),
                        ":sent", AttributeValue.fromS(SENT),
                        ":attempts", AttributeValue.fromN(Integer.toString(attempts)),
                        ":next", AttributeValue.fromN(Long.toString(now.plus(backoff(attempts)).toEpochMilli())),
                        ":error", AttributeValue.fromS(error.length() > 300 ? error.substring(0, 300) : error),
                        ":zero", AttributeValue.fromN("0"))));
    }

    java.util.Optional<Report> find(OrgId org, String hour, String meter) {
        var item = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true).key(key(org, hour, meter))).item();
        return item == null || item.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(report(item));
    }

    /** The organization's reports from {@code fromHour} on, by sort key. */
    Map<String, Report> since(OrgId org, String fromHour) {
        Map<String, Report> reports = new LinkedHashMap<>();
        dynamoDb.queryPaginator(b -> b.tableName(table).consistentRead(true)
                        .keyConditionExpression("pk = :pk AND sk >= :from")
                        .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(partition(org)),
                                ":from", AttributeValue.fromS(fromHour))))
                .items().forEach(item -> reports.put(item.get("sk").s(), report(item)));
        return reports;
    }

    private static Report report(Map<String, AttributeValue> item) {
        String[] sk = item.get("sk").s().split("#", 3);
        return new Report(sk[0], sk[1], sk.length > 2 ? Long.valueOf(sk[2]) : null, s(item, "identifier"),
                n(item, "value"), s(item, "state"),
                (int) n(item, "attempts"), item.containsKey("next_attempt_at")
                ? Instant.ofEpochMilli(n(item, "next_attempt_at")) : null,
                item.containsKey("sent_at") ? Instant.parse(item.get("sent_at").s()) : null, s(item, "last_error"));
    }

    private static String s(Map<String, AttributeValue> item, String name) {
        return item.containsKey(name) ? item.get(name).s() : null;
    }

    private static long n(Map<String, AttributeValue> item, String name) {
        return item.containsKey(name) ? Long.parseLong(item.get(name).n()) : 0;
    }

    private static String partition(OrgId org) {
        return "meter-report#" + org.value();
    }

    private static Map<String, AttributeValue> key(OrgId org, String hour, String meter) {
        return Map.of("pk", AttributeValue.fromS(partition(org)), "sk", AttributeValue.fromS(hour + "#" + meter));
    }
}
