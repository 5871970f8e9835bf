package io.dagy.eventstore.views;

/**
 * The key layout of the read tables, in one place for the projections that write them and the query handlers that
 * read them. Every listing partition belongs to one organization. The default organization keeps the partitions it
 * had before tenancy ({@code deployments}, {@code runs#<deployment>}, {@code runs#*}), so views written before stay
 * where its queries look; other organizations' partitions name them ({@code deployments#<org>}, ...). Organization
 * ids and deployment names hold no '#', so no two partitions coincide.
 */
public final class ViewKeys {

    private static final String DEFAULT_ORG = "default";

    private ViewKeys() {
    }

    /** The partition of an organization's deployment views in {@code DAGY_DEPLOYMENTS}, sorted by name. */
    public static String deployments(String org) {
        return DEFAULT_ORG.equals(org) ? "deployments" : "deployments#" + org;
    }

    /** The partition of one run (its header and its tasks) in {@code DAGY_RUNS}; run ids are global. */
    public static String run(String runId) {
        return "run#" + runId;
    }

    /** The listing of an organization's runs, of one deployment or of all ({@code deployment} null), newest first. */
    public static String runListing(String org, String deployment) {
        String scope = deployment == null ? "*" : deployment;
        return DEFAULT_ORG.equals(org) ? "runs#" + scope : "runs#" + org + "#" + scope;
    }

    /** The schedules of a deployment of an organization in {@code DAGY_SCHEDULES}, sorted by schedule id. */
    public static String schedules(String org, String deployment) {
        return "schedules#" + org + "#" + deployment;
    }
}
