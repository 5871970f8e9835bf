package io.dagy.contracts.schedule;

import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.identity.OrgId;

import java.util.List;

/** Queries on the schedule views (a projection: they may lag a change by a moment). */
public final class ScheduleQueries {

    private ScheduleQueries() {
    }

    /** The schedules of a deployment of the organization, by id. */
    public record ListSchedules(OrgId organization, DeploymentName deployment) {
    }

    /** A schedule as the listing shows it. */
    public record ScheduleSummary(ScheduleId scheduleId, ScheduleSpec spec, String state, String note) {
    }

    public record ScheduleList(List<ScheduleSummary> items) {
    }
}
