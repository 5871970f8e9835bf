package io.dagy.gateway.support;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.OrganizationCommands.CreateApiKey;
import io.dagy.contracts.identity.OrganizationCommands.CreateOrganization;
import io.dagy.contracts.identity.OrganizationCommands.PutMember;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.security.ApiKeys;
import io.dagy.projection.identity.IdentityDirectory;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.springframework.context.ApplicationContext;

import java.time.Instant;

/** Organizations, members and keys made the way the API makes them (commands, then the directory), for tests. */
public final class TestOrganizations {

    private final CommandGateway commands;
    private final IdentityDirectory directory;
    private final EventStore eventStore;

    public TestOrganizations(ApplicationContext context) {
        this.commands = context.getBean(CommandGateway.class);
        this.directory = context.getBean(IdentityDirectory.class);
        this.eventStore = context.getBean(EventStore.class);
    }

    public void create(OrgId org) {
        commands.sendAndWait(new CreateOrganization(org, "Organization " + org, null));
        directory.catchUp(eventStore, org);
    }

    /** A new key of the organization (created if missing) with the role; the key itself. */
    public String key(OrgId org, Role role) {
        return key(org, role, null);
    }

    public String key(OrgId org, Role role, Instant expiresAt) {
        create(org);
        ApiKeys.NewKey key = ApiKeys.generate();
        commands.sendAndWait(new CreateApiKey(org, key.id(), role.code() + " key", role, key.prefix(), key.hash(), expiresAt));
        directory.catchUp(eventStore, org);
        return key.key();
    }

    public void member(OrgId org, String userId, Role role) {
        create(org);
        commands.sendAndWait(new PutMember(org, userId, role));
        directory.catchUp(eventStore, org);
    }
}
