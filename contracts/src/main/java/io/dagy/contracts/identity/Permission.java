package io.dagy.contracts.identity;

/** What a request needs. Every route of the API requires exactly one (see the route table in the gateway). */
public enum Permission {
    READ,
    DEPLOY,
    OPERATE_RUNS,
    CHANGE_SETTINGS,
    MANAGE_MEMBERS,
    MANAGE_API_KEYS,
    READ_AUDIT,
    /** Read the organization's usage (runs, task attempts and billable time, API calls). */
    READ_USAGE,
    /** Rebuild the audit log and usage from the event store and compare them with the live ones (owners only). */
    REPLAY_AUDIT,
    MANAGE_BILLING,
    DELETE_ORGANIZATION,
    /** Poll for and report on task attempts (worker keys only). */
    WORK,
    /**
     * Operate the installation as a whole (its dead letters, which span every organization). Held by owners, and
     * honoured only for owners of the {@code default} organization, the installation's operators.
     */
    OPERATE_INSTALLATION
}
