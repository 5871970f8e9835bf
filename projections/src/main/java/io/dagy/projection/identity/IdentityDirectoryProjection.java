package io.dagy.projection.identity;

import io.dagy.contracts.identity.OrganizationEvents.ApiKeyCreated;
import io.dagy.contracts.identity.OrganizationEvents.ApiKeyRevoked;
import io.dagy.contracts.identity.OrganizationEvents.MemberAdded;
import io.dagy.contracts.identity.OrganizationEvents.MemberRemoved;
import io.dagy.contracts.identity.OrganizationEvents.MemberRoleChanged;
import io.dagy.contracts.identity.OrganizationEvents.OrganizationCreated;
import io.dagy.contracts.identity.OrganizationEvents.OrganizationDeleted;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.Timestamp;

import java.time.Instant;

/**
 * Keeps the {@link IdentityDirectory} up to date with every organization's events, whichever node appended them. Its
 * writes are conditional on the event's sequence number, outside the processor's transaction: a redelivered or
 * replayed event is refused by the condition, never applied twice. No reset handler: a replay rewrites nothing that
 * is current, and the tombstones of removed members and revoked keys must survive it.
 */
@ProcessingGroup(IdentityDirectoryProjection.PROCESSING_GROUP)
public class IdentityDirectoryProjection {

    public static final String PROCESSING_GROUP = "identity-directory";

    private final IdentityDirectory directory;

    public IdentityDirectoryProjection(IdentityDirectory directory) {
        this.directory = directory;
    }

    @EventHandler
    void on(OrganizationCreated event, @SequenceNumber long sequence, @Timestamp Instant at) {
        directory.apply(event, sequence, at);
    }

    @EventHandler
    void on(MemberAdded event, @SequenceNumber long sequence, @Timestamp Instant at) {
        directory.apply(event, sequence, at);
    }

    @EventHandler
    void on(MemberRoleChanged event, @SequenceNumber long sequence, @Timestamp Instant at) {
        directory.apply(event, sequence, at);
    }

    @EventHandler
    void on(MemberRemoved event, @SequenceNumber long sequence, @Timestamp Instant at) {
        directory.apply(event, sequence, at);
    }

    @EventHandler
    void on(ApiKeyCreated event, @SequenceNumber long sequence, @Timestamp Instant at) {
        directory.apply(event, sequence, at);
    }

    @EventHandler
    void on(ApiKeyRevoked event, @SequenceNumber long sequence, @Timestamp Instant at) {
        directory.apply(event, sequence, at);
    }

    @EventHandler
    void on(OrganizationDeleted event, @SequenceNumber long sequence, @Timestamp Instant at) {
        directory.apply(event, sequence, at);
    }
}
