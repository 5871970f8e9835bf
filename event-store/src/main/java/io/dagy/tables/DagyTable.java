package io.dagy.tables;

import static io.dagy.tables.TableDesign.AttributeType.N;
import static io.dagy.tables.TableDesign.AttributeType.S;

/**
 * Every DynamoDB table Dagy uses, with the environment variable that names it and its key design.
 *
 * <p>This enum is the single definition of the tables: the local and test bootstrap create them from it, and the
 * CDK app deploys them from it, so the two cannot drift. Read tables keep the names of the deployment guide; the
 * event-store tables follow the same pattern.
 */
public enum DagyTable {

    // read tables (deployment guide, "Environment Variables Reference")
    FLOWS("DAGY_FLOWS", "flows", TableDesign.readModel()),
    DEPLOYMENTS("DAGY_DEPLOYMENTS", "deployments", TableDesign.readModel()),
    RUNS("DAGY_RUNS", "runs", TableDesign.readModel()),
    TASK_RUNS("DAGY_TASK_RUNS", "task-runs", TableDesign.readModel()),
    SCHEDULES("DAGY_SCHEDULES", "schedules", TableDesign.readModel()),
    USERS("DAGY_USERS", "users", TableDesign.readModel()),
    ACCESS_TOKENS("DAGY_ACCESS_TOKENS", "access-tokens", TableDesign.readModel()),
    /** Written by the API's access log (docs/rate-limits-and-edge.md); items expire after DAGY_ACCESS_LOG_TTL_DAYS. */
    ACCESS_LOGS("DAGY_ACCESS_LOGS", "access-logs", TableDesign.readModel().expiringBy("expires_at")),
    ORGANIZATIONS("DAGY_ORGANIZATIONS", "organizations", TableDesign.readModel()),
    MEMBERSHIPS("DAGY_MEMBERSHIPS", "memberships", TableDesign.readModel()),
    API_KEYS("DAGY_API_KEYS", "api-keys", TableDesign.readModel()),
    DAG_DRAFTS("DAGY_DAG_DRAFTS", "dag-drafts", TableDesign.readModel()),
    USAGE_EVENTS("DAGY_USAGE_EVENTS", "usage-events", TableDesign.readModel()),
    USAGE_AGGREGATES("DAGY_USAGE_AGGREGATES", "usage-aggregates", TableDesign.readModel()),
    SUBSCRIPTIONS("DAGY_SUBSCRIPTIONS", "subscriptions", TableDesign.readModel()),
    AUDIT_LOGS("DAGY_AUDIT_LOGS", "audit-logs", TableDesign.readModel()),
    SECRETS("DAGY_SECRETS", "secrets", TableDesign.readModel()),
    NOTIFICATION_CHANNELS("DAGY_NOTIFICATION_CHANNELS", "notification-channels", TableDesign.readModel()),
    ALERT_RULES("DAGY_ALERT_RULES", "alert-rules", TableDesign.readModel()),
    ENVIRONMENTS("DAGY_ENVIRONMENTS", "environments", TableDesign.readModel()),
    SENSORS("DAGY_SENSORS", "sensors", TableDesign.readModel()),

    // the API edge (docs/rate-limits-and-edge.md): one Bucket4j bucket per API key or client address and limit
    RATE_LIMITS("DAGY_RATE_LIMITS", "rate-limits", TableDesign.readModel().expiringBy("expires_at")),

    // event-store tables (docs/event-store.md describes their items)
    EVENTS("DAGY_EVENTS", "events", TableDesign.keyed("pk", S, "sk", N)),
    SNAPSHOTS("DAGY_SNAPSHOTS", "snapshots", TableDesign.keyed("pk", S, "sk", N)),
    TOKENS("DAGY_TOKENS", "tokens", TableDesign.keyed("pk", S, "sk", N)),
    SAGAS("DAGY_SAGAS", "sagas", TableDesign.keyed("pk", S, "sk", S)),
    DEADLINES("DAGY_DEADLINES", "deadlines", TableDesign.keyed("pk", S, "sk", S)),
    /** Events whose handlers failed, parked per processor and sequence (docs/event-store.md, "Dead letters"). */
    DEAD_LETTERS("DAGY_DEAD_LETTERS", "dead-letters", TableDesign.keyed("pk", S, "sk", S));

    private final String variable;
    private final String baseName;
    private final TableDesign design;

    DagyTable(String variable, String baseName, TableDesign design) {
        this.variable = variable;
        this.baseName = baseName;
        this.design = design;
    }

    /** The environment variable that names this table, e.g. {@code DAGY_RUNS}. */
    public String variable() {
        return variable;
    }

    public TableDesign design() {
        return design;
    }

    /** The name used when the variable is not set (local and test only): {@code dagy-runs-local}. */
    public String defaultName(String environment) {
        return "dagy-" + baseName + "-" + environment;
    }
}
