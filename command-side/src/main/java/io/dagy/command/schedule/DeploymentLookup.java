package io.dagy.command.schedule;

import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;

/** Whether an organization has a deployment of that name, read strongly consistent (its event stream). */
@FunctionalInterface
public interface DeploymentLookup {

    boolean exists(OrgId org, DeploymentName name);
}
