package io.dagy.projection.audit;

import io.dagy.contracts.audit.AuditEvents.ActionRefused;
import io.dagy.contracts.deployment.DeploymentEvents.DeploymentPublished;
import io.dagy.contracts.schedule.FireKind;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleBackfillRequested;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleCreated;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleDeleted;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleFired;
import io.dagy.contracts.schedule.ScheduleEvents.SchedulePaused;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleUnpaused;
import io.dagy.contracts.schedule.ScheduleEvents.ScheduleUpdated;
import io.dagy.contracts.schedule.ScheduleId;
import io.dagy.contracts.schedule.ScheduleSpec;
import io.dagy.contracts.deployment.DeploymentEvents.DeploymentSettingsChanged;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.identity.ActorKind;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrganizationEvents.ApiKeyCreated;
import io.dagy.contracts.identity.OrganizationEvents.ApiKeyRevoked;
import io.dagy.contracts.identity.OrganizationEvents.MemberAdded;
import io.dagy.contracts.identity.OrganizationEvents.MemberRemoved;
import io.dagy.contracts.identity.OrganizationEvents.MemberRoleChanged;
import io.dagy.contracts.identity.OrganizationEvents.OrganizationCreated;
import io.dagy.contracts.identity.OrganizationEvents.OrganizationDeleted;
import io.dagy.contracts.run.RunEvents.RunCancelling;
import io.dagy.contracts.run.RunEvents.RunRerunStarted;
import io.dagy.contracts.run.RunEvents.RunStarted;
import io.dagy.eventstore.tx.DynamoWrites;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.messaging.annotation.MessageIdentifier;
import org.axonframework.messaging.MetaData;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The audit log: one record per action a user or an API key took, chained per organization ({@link AuditChain}).
 * Actions of Dagy itself (sagas, deadlines, backend reports), of workers (their reports are metered as usage) and
 * events stored before tenancy are not actions of a person or key and are not recorded.
 *
 * <p>Sequenced by organization ({@link #SEQUENCING_KEY}), so one segment chains an organization's records and they
 * rarely contend; when two writers do (a handover between nodes), the chain head's condition decides. Safe to replay:
 * a record is chained once per audit id ({@code aud_<event id>}), and {@link AuditReplay} rebuilds into fresh tables.
 * To record old values ({@code changes.*.old}) it keeps, per organization, the last value of what changes
 * (deployment settings and versions, members' roles, keys' names and roles) in {@code audit-state#<org>} items.
 */
@ProcessingGroup(AuditLogProjection.PROCESSING_GROUP)
public class AuditLogProjection {

    public static final String PROCESSING_GROUP = "audit-log";
    /** The metadata key the processor sequences by: all events of an organization in one segment. */
    public static final String SEQUENCING_KEY = MessageKeys.ORG_ID;

    private final DynamoDbClient dynamoDb;
    private final AuditChain chain;

    public AuditLogProjection(DynamoDbClient dynamoDb, AuditChain chain) {
        this.dynamoDb = dynamoDb;
        this.chain = chain;
    }

    @EventHandler
    void on(OrganizationCreated event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, "organization_created", "organization", event.organization().value(),
                changes("name", null, event.name()));
    }

    @EventHandler
    void on(OrganizationDeleted event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, "organization_deleted", "organization", event.organization().value(), Map.of());
    }

    @EventHandler
    void on(MemberAdded event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        String org = event.organization().value();
        remember(org, "member#" + event.userId(), event.role().code());
        record(id, at, metaData, "member_added", "member", event.userId(), changes("role", null, event.role().code()));
    }

    @EventHandler
    void on(MemberRoleChanged event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        String org = event.organization().value();
        String old = recall(org, "member#" + event.userId()).orElse(null);
        remember(org, "member#" + event.userId(), event.role().code());
        record(id, at, metaData, "member_role_changed", "member", event.userId(), changes("role", old, event.role().code()));
    }

    @EventHandler
    void on(MemberRemoved event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        String org = event.organization().value();
        String old = recall(org, "member#" + event.userId()).orElse(null);
        remember(org, "member#" + event.userId(), null);
        record(id, at, metaData, "member_removed", "member", event.userId(), changes("role", old, null));
    }

    /** Name, role and expiry only: never the key, its hash or its prefix. */
    @EventHandler
    void on(ApiKeyCreated event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        Map<String, AuditRecord.Change> changes = new LinkedHashMap<>();
        changes.put("name", new AuditRecord.Change(null, event.name()));
        changes.put("role", new AuditRecord.Change(null, event.role().code()));
        changes.put("expires_at", new AuditRecord.Change(null, event.expiresAt() == null ? null : event.expiresAt().toString()));
        record(id, at, metaData, "api_key_created", "api_key", event.keyId().value(), changes);
    }

    @EventHandler
    void on(ApiKeyRevoked event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, "api_key_revoked", "api_key", event.keyId().value(), changes("revoked", "false", "true"));
    }

    @EventHandler
    void on(DeploymentPublished event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        String org = event.organization().value();
        String name = event.name().value();
        String oldSettings = recall(org, "deployment-settings#" + name).orElse(null);
        String newSettings = settings(event.settings());
        remember(org, "deployment-settings#" + name, newSettings);
        Map<String, AuditRecord.Change> changes = new LinkedHashMap<>();
        changes.put("version", new AuditRecord.Change(event.version() > 1 ? Integer.toString(event.version() - 1) : null,
                Integer.toString(event.version())));
        changes.put("tasks", new AuditRecord.Change(null, Integer.toString(event.dag().tasks().size())));
        if (!newSettings.equals(oldSettings)) {
            changes.put("settings", new AuditRecord.Change(oldSettings, newSettings));
        }
        record(id, at, metaData, "deployment_published", "deployment", name, changes);
    }

    @EventHandler
    void on(DeploymentSettingsChanged event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        String org = organizationOf(metaData);
        if (org == null) {
            return;
        }
        String name = event.name().value();
        String old = recall(org, "deployment-settings#" + name).orElse(null);
        String now = settings(event.settings());
        remember(org, "deployment-settings#" + name, now);
        record(id, at, metaData, "deployment_settings_changed", "deployment", name, changes("settings", old, now));
    }

    /** The deployment and version the run pins; never its parameters (they may carry anything). */
    @EventHandler
    void on(RunStarted event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        Map<String, AuditRecord.Change> changes = new LinkedHashMap<>();
        changes.put("status", new AuditRecord.Change(null, "RUNNING"));
        changes.put("deployment", new AuditRecord.Change(null, event.deployment().value()));
        changes.put("version", new AuditRecord.Change(null, Integer.toString(event.version())));
        record(id, at, metaData, "run_started", "run", event.runId().value(), changes);
    }

    @EventHandler
    void on(RunCancelling event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, "run_cancelled", "run", event.runId().value(), changes("status", "RUNNING", "CANCELLING"));
    }

    @EventHandler
    void on(RunRerunStarted event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        Map<String, AuditRecord.Change> changes = new LinkedHashMap<>();
        changes.put("rerun", new AuditRecord.Change(Integer.toString(event.rerun() - 1), Integer.toString(event.rerun())));
        changes.put("tasks", new AuditRecord.Change(null, Integer.toString(event.resetTasks().size())));
        record(id, at, metaData, "run_rerun", "run", event.runId().value(), changes);
    }

    @EventHandler
    void on(ScheduleCreated event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, "schedule_created", "schedule", scheduleOf(event.scheduleId()),
                changes("spec", null, spec(event.spec())));
    }

    @EventHandler
    void on(ScheduleUpdated event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, "schedule_updated", "schedule", scheduleOf(event.scheduleId()),
                changes("spec", null, spec(event.spec())));
    }

    @EventHandler
    void on(ScheduleDeleted event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, "schedule_deleted", "schedule", scheduleOf(event.scheduleId()), Map.of());
    }

    @EventHandler
    void on(SchedulePaused event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, "schedule_paused", "schedule", scheduleOf(event.scheduleId()),
                changes("note", null, event.note()));
    }

    @EventHandler
    void on(ScheduleUnpaused event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, "schedule_unpaused", "schedule", scheduleOf(event.scheduleId()), Map.of());
    }

    /** A fire asked for by hand; the schedule's own fires are Dagy's (actor {@code system}) and not recorded. */
    @EventHandler
    void on(ScheduleFired event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        if (event.kind() == FireKind.MANUAL) {
            record(id, at, metaData, "schedule_triggered", "schedule", scheduleOf(event.scheduleId()),
                    changes("run_id", null, event.runId().value()));
        }
    }

    @EventHandler
    void on(ScheduleBackfillRequested event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, "schedule_backfilled", "schedule", scheduleOf(event.scheduleId()),
                changes("fire_times", null, Integer.toString(event.fireTimes().size())));
    }

    private static String scheduleOf(ScheduleId schedule) {
        return schedule.deployment().value() + "/" + schedule.id();
    }

    private static String spec(ScheduleSpec spec) {
        return (spec.cron() != null ? "cron " + spec.cron() : "interval " + spec.interval()) + " in " + spec.timezone()
                + ", overlap " + spec.overlap().wire();
    }

    /** A refused action (decision 47): status {@code failure}, the problem's code as the reason. */
    @EventHandler
    void on(ActionRefused event, @MessageIdentifier String id, @Timestamp Instant at, MetaData metaData) {
        record(id, at, metaData, event.action(), event.resourceType(), event.resourceId(), Map.of(), AuditRecord.FAILURE,
                event.reason() + " (" + event.status() + ")");
    }

    /** Replaying rebuilds into fresh tables ({@link AuditLogReplay}); a reset of the live table has nothing to undo. */
    @ResetHandler
    void onReset() {
        // the live chain is append-only: a reset processor finds every record by its audit id and chains nothing twice
    }

    private void record(String eventId, Instant at, MetaData metaData, String action, String resourceType,
                        String resourceId, Map<String, AuditRecord.Change> changes) {
        record(eventId, at, metaData, action, resourceType, resourceId, changes, AuditRecord.SUCCESS, null);
    }

    private void record(String eventId, Instant at, MetaData metaData, String action, String resourceType,
                        String resourceId, Map<String, AuditRecord.Change> changes, String status, String reason) {
        String org = organizationOf(metaData);
        String kind = (String) metaData.get(MessageKeys.ACTOR_KIND);
        if (org == null || !(ActorKind.USER.code().equals(kind) || ActorKind.API_KEY.code().equals(kind))) {
            return;   // not an action of a person or a key
        }
        chain.append(AuditRecord.draft(auditId(eventId), at, org, (String) metaData.get(MessageKeys.ACTOR_ID), kind,
                action, resourceType, resourceId, changes, (String) metaData.get(MessageKeys.IP_ADDRESS),
                (String) metaData.get(MessageKeys.USER_AGENT), status, reason));
    }

    /** The audit id of the record an event gives: the same in the live log and in a replay. */
    public static String auditId(String eventId) {
        return "aud_" + eventId;
    }

    private static String organizationOf(MetaData metaData) {
        Object org = metaData.get(MessageKeys.ORG_ID);
        return org instanceof String value && !value.isBlank() ? value : null;
    }

    private static Map<String, AuditRecord.Change> changes(String field, String old, String now) {
        Map<String, AuditRecord.Change> changes = new TreeMap<>();
        changes.put(field, new AuditRecord.Change(old, now));
        return changes;
    }

    static String settings(DeploymentSettings settings) {
        return "execution_mode=" + settings.executionMode() + "; dep_package_slugs=" + settings.depPackageSlugs()
                + "; tags=" + new TreeMap<>(settings.tags());
    }

    private Optional<String> recall(String org, String what) {
        return DynamoWrites.get(dynamoDb, chain.table(), stateKey(org, what))
                .map(item -> item.get("value")).map(AttributeValue::s);
    }

    private void remember(String org, String what, String value) {
        Map<String, AttributeValue> item = new java.util.HashMap<>(stateKey(org, what));
        if (value != null) {
            item.put("value", AttributeValue.fromS(value));
        }
        DynamoWrites.put(dynamoDb, chain.table(), item, stateKey(org, what));
    }

    private static Map<String, AttributeValue> stateKey(String org, String what) {
        return Map.of("pk", AttributeValue.fromS("audit-state#" + org), "sk", AttributeValue.fromS(what));
    }
}
