package io.dagy.contracts.identity;

import java.time.Instant;
import java.util.List;

/** Views of organizations, members and API keys. */
public final class OrganizationQueries {

    private OrganizationQueries() {
    }

    public record OrganizationView(OrgId organization, String name, boolean deleted) {
    }

    public record MemberView(String userId, Role role) {
    }

    /** A key as listings show it: never the key, never its hash. */
    public record ApiKeyView(ApiKeyId keyId, String name, Role role, String prefix, Instant createdAt,
                             Instant expiresAt, Instant lastUsedAt, boolean revoked) {
    }

    public record MemberList(List<MemberView> members) {
        public MemberList {
            members = List.copyOf(members);
        }
    }

    public record ApiKeyList(List<ApiKeyView> keys) {
        public ApiKeyList {
            keys = List.copyOf(keys);
        }
    }
}
