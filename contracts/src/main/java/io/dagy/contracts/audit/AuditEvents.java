package io.dagy.contracts.audit;

import io.dagy.contracts.identity.OrgId;

/**
 * Events of the audit log itself. Never rename or move these records; change a shape with a revision and an upcaster.
 */
public final class AuditEvents {

    private AuditEvents() {
    }

    /**
     * The REST edge refused an action of an authenticated caller (decision 47): a denied permission, a rejected
     * validation, a rate-limited write. It changed nothing, so no domain event tells of it; this plain event (no
     * aggregate) carries it into the event store, where the audit projection and a replay find it like any other.
     * The caller, address and user agent travel in its metadata like every event's. {@code resourceId} is the path's
     * resource name as sent (never a body value: bodies may hold secrets); {@code reason} is the problem's stable code.
     */
    public record ActionRefused(OrgId organization, String action, String resourceType, String resourceId, int status,
                                String reason) {
        public ActionRefused {
            if (organization == null || action == null || resourceType == null || reason == null) {
                throw new IllegalArgumentException("a refused action names its organization, action, resource type and reason");
            }
        }
    }
}
