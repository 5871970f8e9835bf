package io.dagy.command.deployment;

import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class DeploymentIdsTest {

    private final AtomicInteger lookups = new AtomicInteger();
    private final DeploymentIds ids = new DeploymentIds(name -> {
        lookups.incrementAndGet();
        return Set.of("legacy").contains(name);
    });

    @Test
    void aDeploymentStoredBeforeTenancyKeepsItsBareNameInTheDefaultOrganization() {
        assertThat(ids.aggregateId(OrgId.DEFAULT, new DeploymentName("legacy"))).isEqualTo("legacy");
    }

    @Test
    void aNewDeploymentOfTheDefaultOrganizationIsTyped() {
        assertThat(ids.aggregateId(OrgId.DEFAULT, new DeploymentName("fresh"))).isEqualTo("deployment:default:fresh");
    }

    @Test
    void anotherOrganizationNeverReachesAStreamStoredBeforeTenancy() {
        assertThat(ids.aggregateId(new OrgId("acme"), new DeploymentName("legacy"))).isEqualTo("deployment:acme:legacy");
        assertThat(lookups).hasValue(0);
    }

    @Test
    void whetherABareStreamExistsIsAskedOncePerName() {
        ids.aggregateId(OrgId.DEFAULT, new DeploymentName("legacy"));
        ids.aggregateId(OrgId.DEFAULT, new DeploymentName("legacy"));
        ids.aggregateId(OrgId.DEFAULT, new DeploymentName("fresh"));
        ids.aggregateId(OrgId.DEFAULT, new DeploymentName("fresh"));

        assertThat(lookups).hasValue(2);
    }
}
