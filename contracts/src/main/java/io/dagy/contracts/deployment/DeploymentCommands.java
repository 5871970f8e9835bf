package io.dagy.contracts.deployment;

import io.dagy.contracts.AggregateCommand;
import io.dagy.contracts.identity.OrgId;

/** Commands on deployments. A deployment is identified by its organization and its name. */
public final class DeploymentCommands {

    private DeploymentCommands() {
    }

    /** Publishes a DAG under a name: the first version creates the deployment, later ones add versions. */
    public record PublishDeployment(OrgId organization, DeploymentName name, DagDraft dag) implements AggregateCommand {
        public DeploymentId id() {
            return new DeploymentId(organization, name);
        }

        @Override
        public String targetAggregateId() {
            return id().toString();
        }
    }

    /** Changes the settings a patch sets; runs already started keep theirs. */
    public record ChangeDeploymentSettings(OrgId organization, DeploymentName name,
                                           DeploymentSettings.SettingsPatch patch) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return new DeploymentId(organization, name).toString();
        }
    }
}
