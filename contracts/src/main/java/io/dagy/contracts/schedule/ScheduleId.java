package io.dagy.contracts.schedule;

import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;

import java.util.regex.Pattern;

/**
 * A schedule's identity: its id within a deployment of an organization. As an aggregate identifier it is typed,
 * {@code schedule:<org>:<deployment>:<id>}, so it never equals another aggregate's identifier nor a schedule of another
 * organization or deployment. The id the API shows is {@link #id()}: generated ({@code s-} and 20 hex digits) or
 * {@value #SETTINGS} for the schedule of the deployment settings' {@code schedule} shorthand.
 */
public record ScheduleId(OrgId org, DeploymentName deployment, String id) {

    public static final String PREFIX = "schedule:";
    /** The id of the schedule that the deployment settings' {@code schedule} field stands for. */
    public static final String SETTINGS = "settings";

    private static final Pattern VALID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    public ScheduleId {
        if (org == null || deployment == null || !isValid(id)) {
            throw new IllegalArgumentException("a schedule id needs an organization, a deployment and an id of 1-64 of "
                    + "a-z, 0-9, '_', '-': " + id);
        }
    }

    public static boolean isValid(String id) {
        return id != null && VALID.matcher(id).matches();
    }

    /** How the schedule appears as the actor of the runs it starts: {@code <deployment>/<id>}. */
    public String actorId() {
        return deployment.value() + "/" + id;
    }

    /** The aggregate identifier. */
    @Override
    public String toString() {
        return PREFIX + org.value() + ":" + deployment.value() + ":" + id;
    }
}
