package io.dagy.gateway.clerk;

import io.dagy.contracts.AggregateCommand;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.user.UserCommands.DeleteUser;
import io.dagy.contracts.user.UserCommands.RegisterUser;
import io.dagy.contracts.user.UserId;
import io.dagy.gateway.problem.ProblemException;
import org.springframework.http.HttpStatus;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Instant;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads a Clerk event (an authenticated body) into the command it asks for. Of a user, only the id, the primary email
 * address, the name and the profile's {@code updated_at} are taken; every other field (phone numbers, other addresses,
 * metadata, images, external accounts) is ignored and never stored.
 */
final class ClerkEvents {

    static final String USER_CREATED = "user.created";
    static final String USER_UPDATED = "user.updated";
    static final String USER_DELETED = "user.deleted";

    /** The event's type and its command, or no command for a type Dagy does not handle. */
    record Parsed(String type, Optional<AggregateCommand> command) {
    }

    private final JsonMapper json;

    ClerkEvents(JsonMapper json) {
        this.json = json;
    }

    /**
     * @throws ProblemException 400 {@code malformed_request} for a body that is not a JSON event, 400
     *                          {@code validation_failed} for a user event without a valid user id or time
     */
    Parsed parse(byte[] body) {
        JsonNode event;
        try {
            event = json.readTree(body);
        } catch (JacksonException unreadable) {
            throw malformed();
        }
        if (event == null || !event.isObject() || !event.path("type").isString()) {
            throw malformed();
        }
        String type = event.path("type").stringValue();
        JsonNode data = event.path("data");
        return switch (type) {
            case USER_CREATED, USER_UPDATED -> new Parsed(type, Optional.of(new RegisterUser(userId(data),
                    primaryEmail(data), name(data), changedAt(event, data))));
            case USER_DELETED -> new Parsed(type, Optional.of(new DeleteUser(userId(data))));
            default -> new Parsed(type, Optional.empty());
        };
    }

    private static UserId userId(JsonNode data) {
        JsonNode id = data.path("id");
        if (!id.isString() || !UserId.isValid(id.stringValue())) {
            throw invalid("data.id is not a Clerk user id ('user_' and letters or digits, at most 64).");
        }
        return new UserId(id.stringValue());
    }

    /** The address whose id is {@code primary_email_address_id}; null when the user has none. */
    private static String primaryEmail(JsonNode data) {
        JsonNode primaryId = data.path("primary_email_address_id");
        if (!primaryId.isString()) {
            return null;
        }
        for (JsonNode address : data.path("email_addresses")) {
            if (primaryId.stringValue().equals(address.path("id").asString(null)) && address.path("email_address").isString()) {
                return address.path("email_address").stringValue();
            }
        }
        return null;
    }

    /** First and last name joined; null when both are absent or blank. */
    private static String name(JsonNode data) {
        String name = Stream.of(data.path("first_name"), data.path("last_name"))
                .filter(JsonNode::isString).map(JsonNode::stringValue).map(String::strip).filter(s -> !s.isEmpty())
                .collect(Collectors.joining(" "));
        return name.isEmpty() ? null : name;
    }

    /** The profile's {@code updated_at} (milliseconds), else the event's {@code timestamp}. */
    private static Instant changedAt(JsonNode event, JsonNode data) {
        for (JsonNode millis : new JsonNode[]{data.path("updated_at"), event.path("timestamp")}) {
            if (millis.isIntegralNumber() && millis.canConvertToLong()) {
                return Instant.ofEpochMilli(millis.longValue());
            }
        }
        throw invalid("data.updated_at is missing: the user event cannot be ordered.");
    }

    private static ProblemException malformed() {
        // never echo the parser's message: it can quote the body back
        return new ProblemException(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_REQUEST,
                "The body is not a JSON Clerk event.");
    }

    private static ProblemException invalid(String detail) {
        return new ProblemException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, detail);
    }
}
