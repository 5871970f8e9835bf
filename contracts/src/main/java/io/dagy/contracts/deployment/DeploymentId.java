package io.dagy.contracts.deployment;

import io.dagy.contracts.identity.OrgId;

/**
 * A deployment's identity: its name within its organization. As an aggregate identifier it is typed,
 * {@code deployment:<org>:<name>}, so it can never equal the id of another aggregate type (run ids start with
 * {@code r-}, task-run ids hold a '/', other types have prefixes of their own) nor a deployment of another organization.
 */
public record DeploymentId(OrgId org, DeploymentName name) {

    public static final String PREFIX = "deployment:";

    public DeploymentId {
        if (org == null || name == null) {
            throw new IllegalArgumentException("a deployment id needs an organization and a name");
        }
    }

    /** The aggregate identifier. */
    @Override
    public String toString() {
        return PREFIX + org.value() + ":" + name.value();
    }
}
