package io.dagy.contracts.identity;

import java.time.Instant;

/** Events of organizations. Never rename or move these records; change a shape with a revision and an upcaster. */
public final class OrganizationEvents {

    private OrganizationEvents() {
    }

    public record OrganizationCreated(OrgId organization, String name) {
    }

    public record MemberAdded(OrgId organization, String userId, Role role) {
    }

    public record MemberRoleChanged(OrgId organization, String userId, Role role) {
    }

    public record MemberRemoved(OrgId organization, String userId) {
    }

    /**
     * A key was created. {@code hash} is the SHA-256 of the key: a verifier, not the key (a 256-bit random key cannot
     * be recovered from it); {@code prefix} is the key's first characters, for people to recognise it.
     */
    public record ApiKeyCreated(OrgId organization, ApiKeyId keyId, String name, Role role, String prefix, String hash,
                                Instant expiresAt) {
        /** Without the hash (see {@link OrganizationCommands.CreateApiKey#toString()}). */
        @Override
        public String toString() {
            return "ApiKeyCreated[" + organization + ", " + keyId + ", " + name + ", " + role + ", " + prefix + "…]";
        }
    }

    public record ApiKeyRevoked(OrgId organization, ApiKeyId keyId, String hash) {
        @Override
        public String toString() {
            return "ApiKeyRevoked[" + organization + ", " + keyId + "]";
        }
    }

    public record OrganizationDeleted(OrgId organization) {
    }
}
