package io.dagy.contracts.deployment;

import io.dagy.contracts.AggregateCommand;

/** Commands on deployments. A deployment is identified by its name. */
public final class DeploymentCommands {

    private DeploymentCommands() {
    }

    /** Publishes a DAG under a name: the first version creates the deployment, later ones add versions. */
    public record PublishDeployment(DeploymentName name, DagDraft dag) implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return name.value();
        }
    }

    /** Changes the settings a patch sets; runs already started keep theirs. */
    public record ChangeDeploymentSettings(DeploymentName name, DeploymentSettings.SettingsPatch patch)
            implements AggregateCommand {
        @Override
        public String targetAggregateId() {
            return name.value();
        }
    }
}
