package io.dagy.command.deployment;

import io.dagy.contracts.deployment.DeploymentId;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The aggregate identifier of a deployment. Deployments are {@code deployment:<org>:<name>}; a deployment published
 * before tenancy keeps the identifier it was stored under, its bare name, and belongs to the default organization.
 * Rewriting those streams would move their events to another shard of the event store (the shard follows the
 * identifier) and break their order, so they stay where they are and are found here instead.
 *
 * <p>No stream with a bare name is ever created again, so whether one exists is fixed: the answer is cached for good.
 */
public final class DeploymentIds {

    private static final int CACHED_NAMES = 10_000;

    private final Predicate<String> streamExists;
    private final Map<String, Boolean> legacy = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > CACHED_NAMES;
        }
    });

    /** {@code streamExists} answers whether the event store holds events of an aggregate identifier. */
    public DeploymentIds(Predicate<String> streamExists) {
        this.streamExists = streamExists;
    }

    public String aggregateId(OrgId org, DeploymentName name) {
        if (OrgId.DEFAULT.equals(org) && isLegacy(name.value())) {
            return name.value();
        }
        return new DeploymentId(org, name).toString();
    }

    private boolean isLegacy(String name) {
        Boolean known = legacy.get(name);
        if (known == null) {
            known = streamExists.test(name);
            legacy.put(name, known);
        }
        return known;
    }
}
