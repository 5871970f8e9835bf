package io.dagy.command.organization;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.common.DagyRuleViolation;
import io.dagy.command.common.Tenancy;
import org.axonframework.modelling.command.CommandHandlerInterceptor;
import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.identity.ApiKeyId;
import io.dagy.contracts.identity.OrganizationCommands;
import io.dagy.contracts.identity.OrganizationCommands.CreateApiKey;
import io.dagy.contracts.identity.OrganizationCommands.CreateOrganization;
import io.dagy.contracts.identity.OrganizationCommands.DeleteOrganization;
import io.dagy.contracts.identity.OrganizationCommands.PutMember;
import io.dagy.contracts.identity.OrganizationCommands.RemoveMember;
import io.dagy.contracts.identity.OrganizationCommands.RevokeApiKey;
import io.dagy.contracts.identity.OrganizationEvents.ApiKeyCreated;
import io.dagy.contracts.identity.OrganizationEvents.ApiKeyRevoked;
import io.dagy.contracts.identity.OrganizationEvents.MemberAdded;
import io.dagy.contracts.identity.OrganizationEvents.MemberRemoved;
import io.dagy.contracts.identity.OrganizationEvents.MemberRoleChanged;
import io.dagy.contracts.identity.OrganizationEvents.OrganizationCreated;
import io.dagy.contracts.identity.OrganizationEvents.OrganizationDeleted;
import io.dagy.contracts.identity.Role;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.spring.stereotype.Aggregate;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * An organization: its members with their roles and its API keys. It guards the rules that span them: a member role
 * is never {@code worker}, the organization never loses its last owner, and a deleted organization takes no command.
 */
@Aggregate(commandTargetResolver = DagyCommandTargetResolver.BEAN_NAME)
public class Organization {

    @AggregateIdentifier
    private String id;
    private boolean deleted;
    private final Map<String, Role> members = new HashMap<>();
    /** The keys not revoked (expired ones included). */
    private final Map<ApiKeyId, ActiveKey> activeKeys = new HashMap<>();

    /** A key not revoked: its hash, and when it expires (null: never). */
    private record ActiveKey(String hash, Instant expiresAt) {
    }

    protected Organization() {
        // for Axon
    }

    /** Its events belong to it, whatever organization the caller acts in (a person creating another one). */
    @CommandHandlerInterceptor
    void stampOrganization(org.axonframework.commandhandling.CommandMessage<?> command) {
        if (command.getPayload() instanceof io.dagy.contracts.AggregateCommand addressed) {
            Tenancy.stamp(addressed.targetAggregateId().substring("organization:".length()));
        }
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    void handle(CreateOrganization command) {
        Tenancy.stamp(command.organization());
        if (id != null) {
            requireLive();
            return; // created before: a repeated request
        }
        if (command.name() == null || command.name().isBlank() || command.name().length() > 200) {
            throw invalid("name", "1-200 characters");
        }
        apply(new OrganizationCreated(command.organization(), command.name().strip()));
        if (command.ownerUserId() != null) {
            apply(new MemberAdded(command.organization(), command.ownerUserId(), Role.OWNER));
        }
    }

    @CommandHandler
    void handle(PutMember command) {
        requireLive();
        if (!command.role().isMemberRole()) {
            throw invalid("role", "one of viewer, developer, admin, owner");
        }
        Role current = members.get(command.userId());
        if (current == command.role()) {
            return;
        }
        if (current == null) {
            requireRoom(command.limit(), members.size(), "members");
            apply(new MemberAdded(command.organization(), command.userId(), command.role()));
            return;
        }
        requireAnotherOwner(command.userId(), current);
        apply(new MemberRoleChanged(command.organization(), command.userId(), command.role()));
    }

    @CommandHandler
    void handle(RemoveMember command) {
        requireLive();
        Role current = members.get(command.userId());
        if (current == null) {
            return;
        }
        requireAnotherOwner(command.userId(), current);
        apply(new MemberRemoved(command.organization(), command.userId()));
    }

    @CommandHandler
    void handle(CreateApiKey command) {
        requireLive();
        if (command.name() == null || command.name().isBlank() || command.name().length() > 100) {
            throw invalid("name", "1-100 characters");
        }
        if (activeKeys.containsKey(command.keyId())) {
            return; // the same key id twice is the same key
        }
        Instant now = GenericEventMessage.clock.instant();
        requireRoom(command.limit(), activeKeys.values().stream()
                .filter(key -> key.expiresAt() == null || key.expiresAt().isAfter(now)).count(), "api keys");
        apply(new ApiKeyCreated(command.organization(), command.keyId(), command.name().strip(), command.role(),
                command.prefix(), command.hash(), command.expiresAt()));
    }

    @CommandHandler
    void handle(RevokeApiKey command) {
        requireLive();
        ActiveKey key = activeKeys.get(command.keyId());
        if (key == null) {
            throw new DagyRuleViolation(BusinessError.of(ErrorCode.API_KEY_NOT_FOUND,
                    "No active API key has id '" + command.keyId() + "'."));
        }
        apply(new ApiKeyRevoked(command.organization(), command.keyId(), key.hash()));
    }

    @CommandHandler
    void handle(DeleteOrganization command) {
        if (deleted) {
            return;
        }
        apply(new OrganizationDeleted(command.organization()));
    }

    private void requireLive() {
        if (deleted) {
            throw new DagyRuleViolation(BusinessError.of(ErrorCode.ORGANIZATION_NOT_FOUND,
                    "The organization does not exist."));
        }
    }

    /**
     * A plan's limit, applied here rather than only on the gateway's view, so that two nodes adding at the same moment
     * cannot both pass it: the second append finds the first's events and is handled again (decision 103).
     */
    private static void requireRoom(OrganizationCommands.Limit limit, long held, String what) {
        if (limit != null && limit.most() >= 0 && held >= limit.most()) {
            throw new DagyRuleViolation(BusinessError.of(ErrorCode.PLAN_LIMIT_REACHED,
                    "The " + limit.plan() + " plan allows " + limit.most() + " " + what + "."));
        }
    }

    /** An owner may only lose the role while another owner remains. */
    private void requireAnotherOwner(String userId, Role current) {
        if (current == Role.OWNER && members.entrySet().stream()
                .noneMatch(m -> m.getValue() == Role.OWNER && !m.getKey().equals(userId))) {
            throw new DagyRuleViolation(BusinessError.of(ErrorCode.LAST_OWNER,
                    "The organization must keep an owner: make another member owner first."));
        }
    }

    private static DagyRuleViolation invalid(String field, String message) {
        return new DagyRuleViolation(new BusinessError(ErrorCode.VALIDATION_FAILED, "The request is invalid.",
                java.util.List.of(new BusinessError.FieldError(field, message))));
    }

    @EventSourcingHandler
    void on(OrganizationCreated event) {
        id = io.dagy.contracts.identity.OrganizationCommands.aggregateId(event.organization());
    }

    @EventSourcingHandler
    void on(MemberAdded event) {
        members.put(event.userId(), event.role());
    }

    @EventSourcingHandler
    void on(MemberRoleChanged event) {
        members.put(event.userId(), event.role());
    }

    @EventSourcingHandler
    void on(MemberRemoved event) {
        members.remove(event.userId());
    }

    @EventSourcingHandler
    void on(ApiKeyCreated event) {
        activeKeys.put(event.keyId(), new ActiveKey(event.hash(), event.expiresAt()));
    }

    @EventSourcingHandler
    void on(ApiKeyRevoked event) {
        activeKeys.remove(event.keyId());
    }

    @EventSourcingHandler
    void on(OrganizationDeleted event) {
        deleted = true;
        members.clear();
        activeKeys.clear();
    }
}
