package io.dagy.gateway.organization;

import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.identity.ApiKeyId;
import io.dagy.contracts.identity.OrganizationCommands.CreateApiKey;
import io.dagy.contracts.identity.OrganizationCommands.RevokeApiKey;
import io.dagy.contracts.identity.OrganizationQueries.ApiKeyView;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.billing.BillingGuard;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.ApiKeys;
import io.dagy.gateway.security.Caller;
import io.dagy.projection.identity.IdentityDirectory;
import org.axonframework.commandhandling.CommandExecutionException;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * API keys of the caller's organization: created (the key is in the response, once, and nowhere else), listed
 * without their secret, and revoked, which every node honours from the moment the response is sent.
 */
@RestController
class ApiKeyController {

    private final CommandGateway commands;
    private final IdentityDirectory directory;
    private final EventStore eventStore;
    private final BillingGuard billing;
    private final Clock clock = Clock.systemUTC();

    ApiKeyController(CommandGateway commands, IdentityDirectory directory, EventStore eventStore, BillingGuard billing) {
        this.billing = billing;
        this.commands = commands;
        this.directory = directory;
        this.eventStore = eventStore;
    }

    /** {@code role} is a member role or {@code worker}; {@code expires_at} is optional. */
    record CreateRequest(String name, String role, String expiresAt) {
    }

    /** The only response that ever holds the key. */
    record CreatedResponse(String id, String key, String prefix, String name, String role, Instant expiresAt) {
    }

    record KeyResponse(String id, String prefix, String name, String role, Instant createdAt, Instant expiresAt,
                       Instant lastUsedAt, boolean revoked) {
        static KeyResponse of(ApiKeyView key) {
            return new KeyResponse(key.keyId().value(), key.prefix(), key.name(), key.role().code(), key.createdAt(),
                    key.expiresAt(), key.lastUsedAt(), key.revoked());
        }
    }

    record KeysResponse(List<KeyResponse> items) {
    }

    @PostMapping(path = "/v1/api-keys", consumes = "application/json")
    @ResponseStatus(HttpStatus.CREATED)
    CreatedResponse create(Caller caller, @RequestBody CreateRequest body) {
        Role role = keyRole(body.role());
        if (role.isMemberRole() && !caller.role().covers(role)) {
            throw ProblemException.of(ErrorCode.FORBIDDEN, "You cannot create a key with a role above your own.");
        }
        Instant expiresAt = expiry(body.expiresAt());
        Instant now = clock.instant();
        var limit = billing.requireRoomFor(caller.org(), BillingGuard.Countable.API_KEYS, directory.keys(caller.org())
                .stream().filter(k -> !k.revoked() && (k.expiresAt() == null || k.expiresAt().isAfter(now))).count());
        ApiKeys.NewKey key = ApiKeys.generate();
        try {
            commands.sendAndWait(new CreateApiKey(caller.org(), key.id(), body.name(), role, key.prefix(), key.hash(),
                    expiresAt, limit));
        } catch (CommandExecutionException refused) {
            throw billing.refused(refused, BillingGuard.Countable.API_KEYS, limit);
        }
        directory.catchUp(eventStore, caller.org());
        return new CreatedResponse(key.id().value(), key.key(), key.prefix(), body.name(), role.code(), expiresAt);
    }

    @GetMapping("/v1/api-keys")
    KeysResponse list(Caller caller) {
        return new KeysResponse(directory.keys(caller.org()).stream().map(KeyResponse::of).toList());
    }

    @DeleteMapping("/v1/api-keys/{keyId}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void revoke(Caller caller, @PathVariable String keyId) {
        if (!ApiKeyId.isValid(keyId)) {
            throw ProblemException.of(ErrorCode.API_KEY_NOT_FOUND, "No API key has that id.");
        }
        ApiKeyView key = directory.keys(caller.org()).stream().filter(listed -> listed.keyId().value().equals(keyId))
                .findFirst()
                .orElseThrow(() -> ProblemException.of(ErrorCode.API_KEY_NOT_FOUND, "No API key has id '" + keyId + "'."));
        if (key.role().isMemberRole() && !caller.role().covers(key.role())) {
            throw ProblemException.of(ErrorCode.FORBIDDEN, "You cannot revoke a key whose role is above your own.");
        }
        if (!key.revoked()) {
            commands.sendAndWait(new RevokeApiKey(caller.org(), key.keyId()));
        }
        directory.catchUp(eventStore, caller.org());
    }

    private static Role keyRole(String code) {
        try {
            if (code != null) {
                return Role.fromCode(code);
            }
        } catch (IllegalArgumentException unknown) {
            // answered below
        }
        throw ProblemException.invalid("role", "one of viewer, developer, admin, owner, worker");
    }

    private Instant expiry(String text) {
        if (text == null) {
            return null;
        }
        try {
            Instant at = Instant.parse(text);
            if (!at.isAfter(clock.instant())) {
                throw ProblemException.invalid("expires_at", "must be in the future");
            }
            return at;
        } catch (DateTimeParseException malformed) {
            throw ProblemException.invalid("expires_at", "an ISO-8601 instant, e.g. 2027-01-31T00:00:00Z");
        }
    }
}
