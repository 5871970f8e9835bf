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
    MANAGE_BILLING,
    DELETE_ORGANIZATION,
    /** Poll for and report on task attempts (worker keys only). */
    WORK
}
