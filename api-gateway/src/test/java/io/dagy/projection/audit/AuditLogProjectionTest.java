package io.dagy.projection.audit;

import io.dagy.contracts.identity.ApiKeyId;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.OrganizationEvents.ApiKeyCreated;
import io.dagy.contracts.identity.OrganizationEvents.MemberAdded;
import io.dagy.contracts.identity.OrganizationEvents.MemberRoleChanged;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.DagyApplication;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.tables.DagyTable;
import org.axonframework.messaging.MetaData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The audit projection's handlers against DynamoDB Local, called as its processor calls them. */
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
class AuditLogProjectionTest {

    private static final Instant AT = Instant.parse("2026-11-30T03:00:00Z");

    @Autowired
    DynamoDbClient dynamoDb;

    @Autowired
    DagyResources resources;

    private AuditChain chain;
    private AuditLogProjection projection;
    private OrgId org;

    @BeforeEach
    void aFreshOrganization() {
        org = new OrgId("proj-" + UUID.randomUUID().toString().substring(0, 8));
        chain = new AuditChain(dynamoDb, resources.table(DagyTable.AUDIT_LOGS));
        projection = new AuditLogProjection(dynamoDb, chain);
    }

    @Test
    void whatDagyDoesItselfIsNotRecordedButItsChangesAreRemembered() {
        projection.on(new MemberAdded(org, "user_a", Role.VIEWER), "e1", AT, actor("system", "dagy"));
        projection.on(new MemberRoleChanged(org, "user_a", Role.ADMIN), "e2", AT, actor("user", "user_owner"));

        List<AuditRecord> records = records();
        assertThat(records).singleElement().satisfies(record -> {
            assertThat(record.action()).isEqualTo("member_role_changed");
            assertThat(record.userId()).isEqualTo("user_owner");
            assertThat(record.changes().get("role")).isEqualTo(new AuditRecord.Change("viewer", "admin"));
            assertThat(record.prevHash()).isEqualTo(AuditRecord.GENESIS);
        });
    }

    @Test
    void aKeyCreationRecordsNeitherTheKeysHashNorItsPrefix() {
        projection.on(new ApiKeyCreated(org, new ApiKeyId("key_0123456789abcdef"), "ci", Role.DEVELOPER, "dagy_ABCDEFGH",
                "f".repeat(64), null), "e3", AT, actor("api_key", "key_0"));

        AuditRecord record = records().get(0);
        assertThat(record.canonical()).doesNotContain("dagy_ABCDEFGH").doesNotContain("f".repeat(64));
        assertThat(record.changes()).containsKeys("name", "role", "expires_at");
    }

    @Test
    void anEventDeliveredAgainIsNotChainedAgain() {
        MemberAdded added = new MemberAdded(org, "user_b", Role.DEVELOPER);
        projection.on(added, "e4", AT, actor("user", "user_owner"));
        projection.on(added, "e4", AT, actor("user", "user_owner"));

        assertThat(records()).hasSize(1);
        assertThat(chain.verify(org.value(), null, null).firstMismatch()).isEmpty();
    }

    private List<AuditRecord> records() {
        return chain.page(org.value(), 0, 100, 100, r -> true).records();
    }

    private MetaData actor(String kind, String id) {
        return MetaData.with(MessageKeys.ORG_ID, org.value()).and(MessageKeys.ACTOR_KIND, kind)
                .and(MessageKeys.ACTOR_ID, id).and(MessageKeys.IP_ADDRESS, "203.0.113.42");
    }
}
