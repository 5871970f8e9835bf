package io.dagy.contracts.identity;

import io.dagy.contracts.AggregateCommand;

import java.time.Instant;

/**
 * Commands on an organization: its members and its API keys. An organization is one aggregate, identified as
 * {@code organization:<id>}; members and keys are few, and keeping them together lets one aggregate guard rules that
 * span them (an organization always keeps an owner).
 */
public final class OrganizationCommands {

    private OrganizationCommands() {
    }

    /** The aggregate identifier of an organization. */
    public static String aggregateId(OrgId org) {
        return "organization:" + org.value();
    }

    /** Creates the organization; the creating user, if any, becomes its owner. Repeating it changes nothing. */
    public record CreateOrganization(OrgId organization, String name, String ownerUserId) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return aggregateId(organization);
        }
    }

    /**
     * A plan's limit on what an organization may hold (members, or API keys neither revoked nor expired): at most
     * {@code most} under plan {@code plan}. The gateway reads it from the subscription; the organization applies it
     * when it adds one, so two nodes adding at the same moment cannot both pass it.
     */
    public record Limit(String plan, long most) {
    }

    /**
     * Adds a member, or changes the role of one who is a member already; a new member is refused when the
     * organization already has {@code limit}'s most (null: no limit).
     */
    public record PutMember(OrgId organization, String userId, Role role, Limit limit) implements AggregateCommand {
        public PutMember(OrgId organization, String userId, Role role) {
            this(organization, userId, role, null);
        }

        @Override
        public String targetAggregateId() {
            return aggregateId(organization);
        }
    }

    /** Removes a member; removing one who is not a member changes nothing. */
    public record RemoveMember(OrgId organization, String userId) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return aggregateId(organization);
        }
    }

    /**
     * Registers an API key. Only its SHA-256 hash and a display prefix reach the organization; the key itself is shown
     * once to whoever created it and stored nowhere. Refused when the organization already has {@code limit}'s most
     * keys neither revoked nor expired (null: no limit).
     */
    public record CreateApiKey(OrgId organization, ApiKeyId keyId, String name, Role role, String prefix,
                               String hash, Instant expiresAt, Limit limit) implements AggregateCommand {
        public CreateApiKey(OrgId organization, ApiKeyId keyId, String name, Role role, String prefix, String hash,
                            Instant expiresAt) {
            this(organization, keyId, name, role, prefix, hash, expiresAt, null);
        }

        @Override
        public String targetAggregateId() {
            return aggregateId(organization);
        }

        /** Without the hash: it identifies the key in the directory, and logs need not say which. */
        @Override
        public String toString() {
            return "CreateApiKey[" + organization + ", " + keyId + ", " + name + ", " + role + ", " + prefix + "…]";
        }
    }

    /** Revokes a key; repeating it changes nothing. */
    public record RevokeApiKey(OrgId organization, ApiKeyId keyId) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return aggregateId(organization);
        }
    }

    /** Deletes the organization: every key stops working and every member loses access. */
    public record DeleteOrganization(OrgId organization) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return aggregateId(organization);
        }
    }
}
