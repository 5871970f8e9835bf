package io.dagy.command.organization;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.common.DagyRuleViolation;
import io.dagy.command.deployment.DeploymentIds;
import io.dagy.contracts.identity.ApiKeyId;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.OrganizationCommands.CreateApiKey;
import io.dagy.contracts.identity.OrganizationCommands.CreateOrganization;
import io.dagy.contracts.identity.OrganizationCommands.DeleteOrganization;
import io.dagy.contracts.identity.OrganizationCommands.Limit;
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
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;

class OrganizationTest {

    private static final OrgId ACME = new OrgId("acme");
    private static final ApiKeyId KEY = new ApiKeyId("key_0123456789abcdef");

    private AggregateTestFixture<Organization> fixture;

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(Organization.class);
        fixture.registerCommandTargetResolver(new DagyCommandTargetResolver(new DeploymentIds(name -> false)));
    }

    @Test
    void creatingAnOrganizationMakesItsCreatorTheOwner() {
        fixture.givenNoPriorActivity()
                .when(new CreateOrganization(ACME, "Acme", "user_1"))
                .expectEvents(new OrganizationCreated(ACME, "Acme"), new MemberAdded(ACME, "user_1", Role.OWNER));
    }

    @Test
    void creatingItAgainChangesNothing() {
        fixture.given(new OrganizationCreated(ACME, "Acme"), new MemberAdded(ACME, "user_1", Role.OWNER))
                .when(new CreateOrganization(ACME, "Acme", "user_2"))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void theLastOwnerCannotBeDemoted() {
        fixture.given(new OrganizationCreated(ACME, "Acme"), new MemberAdded(ACME, "user_1", Role.OWNER))
                .when(new PutMember(ACME, "user_1", Role.ADMIN))
                .expectException(DagyRuleViolation.class)
                .expectNoEvents();
    }

    @Test
    void theLastOwnerCannotBeRemoved() {
        fixture.given(new OrganizationCreated(ACME, "Acme"), new MemberAdded(ACME, "user_1", Role.OWNER))
                .when(new RemoveMember(ACME, "user_1"))
                .expectException(DagyRuleViolation.class)
                .expectNoEvents();
    }

    @Test
    void anOwnerCanStepDownOnceAnotherOwnerExists() {
        fixture.given(new OrganizationCreated(ACME, "Acme"), new MemberAdded(ACME, "user_1", Role.OWNER),
                        new MemberAdded(ACME, "user_2", Role.OWNER))
                .when(new PutMember(ACME, "user_1", Role.VIEWER))
                .expectEvents(new MemberRoleChanged(ACME, "user_1", Role.VIEWER));
    }

    @Test
    void workerIsNotAMemberRole() {
        fixture.given(new OrganizationCreated(ACME, "Acme"))
                .when(new PutMember(ACME, "user_1", Role.WORKER))
                .expectException(DagyRuleViolation.class)
                .expectNoEvents();
    }

    @Test
    void removingSomeoneWhoIsNotAMemberChangesNothing() {
        fixture.given(new OrganizationCreated(ACME, "Acme"), new MemberAdded(ACME, "user_1", Role.OWNER))
                .when(new RemoveMember(ACME, "user_9"))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void aRevokedKeyCarriesItsHashSoTheDirectoryCanRefuseIt() {
        fixture.given(new OrganizationCreated(ACME, "Acme"),
                        new ApiKeyCreated(ACME, KEY, "ci", Role.DEVELOPER, "dagy_ABCDEFGH", "hash-1", null))
                .when(new RevokeApiKey(ACME, KEY))
                .expectEvents(new ApiKeyRevoked(ACME, KEY, "hash-1"));
    }

    @Test
    void revokingAnUnknownKeyIsRefused() {
        fixture.given(new OrganizationCreated(ACME, "Acme"))
                .when(new RevokeApiKey(ACME, KEY))
                .expectException(DagyRuleViolation.class)
                .expectNoEvents();
    }

    @Test
    void aDeletedOrganizationTakesNoMoreKeys() {
        fixture.given(new OrganizationCreated(ACME, "Acme"), new OrganizationDeleted(ACME))
                .when(new CreateApiKey(ACME, KEY, "ci", Role.VIEWER, "dagy_ABCDEFGH", "hash-1", null))
                .expectException(DagyRuleViolation.class)
                .expectNoEvents();
    }

    @Test
    void removingAMemberIsAnEvent() {
        fixture.given(new OrganizationCreated(ACME, "Acme"), new MemberAdded(ACME, "user_1", Role.OWNER),
                        new MemberAdded(ACME, "user_2", Role.DEVELOPER))
                .when(new RemoveMember(ACME, "user_2"))
                .expectEvents(new MemberRemoved(ACME, "user_2"));
    }

    @Test
    void deletingTheOrganizationIsAnEvent() {
        fixture.given(new OrganizationCreated(ACME, "Acme"))
                .when(new DeleteOrganization(ACME))
                .expectEvents(new OrganizationDeleted(ACME));
    }

    /**
     * A plan's limit is applied by the organization itself (decision 103): the gateway's check reads its own view, so
     * two nodes adding at the same moment could each pass it; here the second append finds the first's events.
     */
    @Test
    void anApiKeyBeyondThePlansLimitIsRefused() {
        fixture.given(new OrganizationCreated(ACME, "Acme"), key("key_aaaaaaaaaaaaaaaa", null),
                        key("key_bbbbbbbbbbbbbbbb", null))
                .when(new CreateApiKey(ACME, KEY, "ci", Role.DEVELOPER, "dagy_ABCDEFGH", "hash-1", null,
                        new Limit("free", 2)))
                .expectException(DagyRuleViolation.class)
                .expectExceptionMessage("The free plan allows 2 api keys.")
                .expectNoEvents();
    }

    /** A repeated request for a key that exists changes nothing, even at the limit: it is not one more key. */
    @Test
    void aKeyCreatedAgainAtTheLimitIsTheSameKey() {
        fixture.given(new OrganizationCreated(ACME, "Acme"), key(KEY.value(), null), key("key_bbbbbbbbbbbbbbbb", null))
                .when(new CreateApiKey(ACME, KEY, "ci", Role.DEVELOPER, "dagy_ABCDEFGH", "hash-1", null,
                        new Limit("free", 2)))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void revokedAndExpiredKeysLeaveRoomUnderTheLimit() {
        ApiKeyCreated revoked = key("key_aaaaaaaaaaaaaaaa", null);
        fixture.given(new OrganizationCreated(ACME, "Acme"), revoked,
                        new ApiKeyRevoked(ACME, revoked.keyId(), revoked.hash()),
                        key("key_bbbbbbbbbbbbbbbb", Instant.parse("2001-01-01T00:00:00Z")),
                        key("key_cccccccccccccccc", Instant.parse("2999-01-01T00:00:00Z")))
                .when(new CreateApiKey(ACME, KEY, "ci", Role.DEVELOPER, "dagy_ABCDEFGH", "hash-1", null,
                        new Limit("free", 2)))
                .expectEvents(new ApiKeyCreated(ACME, KEY, "ci", Role.DEVELOPER, "dagy_ABCDEFGH", "hash-1", null));
    }

    @Test
    void aNewMemberBeyondThePlansLimitIsRefusedAndAMembersRoleStillChanges() {
        fixture.given(new OrganizationCreated(ACME, "Acme"), new MemberAdded(ACME, "user_1", Role.OWNER),
                        new MemberAdded(ACME, "user_2", Role.VIEWER))
                .when(new PutMember(ACME, "user_3", Role.VIEWER, new Limit("free", 2)))
                .expectException(DagyRuleViolation.class)
                .expectNoEvents();
        fixture.given(new OrganizationCreated(ACME, "Acme"), new MemberAdded(ACME, "user_1", Role.OWNER),
                        new MemberAdded(ACME, "user_2", Role.VIEWER))
                .when(new PutMember(ACME, "user_2", Role.DEVELOPER, new Limit("free", 2)))
                .expectEvents(new MemberRoleChanged(ACME, "user_2", Role.DEVELOPER));
    }

    private static ApiKeyCreated key(String id, Instant expiresAt) {
        return new ApiKeyCreated(ACME, new ApiKeyId(id), id, Role.DEVELOPER, "dagy_" + id.substring(4, 12),
                "hash-" + id, expiresAt);
    }
}
