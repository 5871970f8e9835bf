package io.dagy.contracts.deployment;

import io.dagy.contracts.Revision;
import io.dagy.contracts.identity.OrgId;

/**
 * Events of deployments. Never rename or move these records: stored events name their class. Change a shape by adding
 * a revision and an upcaster.
 */
public final class DeploymentEvents {

    private DeploymentEvents() {
    }

    /**
     * A version of a deployment's DAG was published. Version 1 created the deployment. Revision 1 added the
     * organization; events of revision {@code null} belong to {@link OrgId#DEFAULT}.
     */
    @Revision("1")
    public record DeploymentPublished(OrgId organization, DeploymentName name, int version, Dag dag,
                                      DeploymentSettings settings) {
    }

    /** The deployment's settings changed (the complete new settings). */
    public record DeploymentSettingsChanged(DeploymentName name, DeploymentSettings settings) {
    }
}
