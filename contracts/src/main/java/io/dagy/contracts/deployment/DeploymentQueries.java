package io.dagy.contracts.deployment;

import io.dagy.contracts.identity.OrgId;

import java.time.Instant;
import java.util.List;

/** Queries on deployments and the views they answer with. */
public final class DeploymentQueries {

    private DeploymentQueries() {
    }

    public record FindDeployment(OrgId organization, DeploymentName name) {
    }

    /**
     * Deployments in name order, a page at a time.
     *
     * @param after the {@code nextAfter} cursor of the previous page (opaque), or null for the first page
     */
    public record ListDeployments(OrgId organization, String after, int limit) {
        public ListDeployments {
            if (limit < 1 || limit > 100) {
                throw new IllegalArgumentException("limit must be 1..100: " + limit);
            }
        }
    }

    /** The current version of a deployment. */
    public record DeploymentView(OrgId organization, DeploymentName name, int version, Dag dag,
                                 DeploymentSettings settings, Instant updatedAt) {
        /** Views written before tenancy have no organization: they belong to the default one. */
        public DeploymentView {
            organization = organization == null ? OrgId.DEFAULT : organization;
        }
    }

    /** A page of deployments; {@code nextAfter} (an opaque cursor) is null on the last page. */
    public record DeploymentPage(List<DeploymentView> items, String nextAfter) {
        public DeploymentPage {
            items = List.copyOf(items);
        }
    }
}
