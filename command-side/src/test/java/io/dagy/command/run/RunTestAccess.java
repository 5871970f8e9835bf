package io.dagy.command.run;

import io.dagy.command.task.TaskRun;
import io.dagy.contracts.deployment.Dag;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import org.axonframework.modelling.command.Repository;

import java.util.List;
import java.util.Map;

/** Starts a run as {@link RunStarter} does, for tests outside this package: the run and its first task runs. */
public final class RunTestAccess {

    private RunTestAccess() {
    }

    /** Call inside a unit of work. */
    public static void start(Repository<Run> runs, Repository<TaskRun> taskRuns, RunId runId, Dag dag) {
        try {
            List<QueueTask> roots = runs.newInstance(() -> new Run(runId, OrgId.DEFAULT, new DeploymentName("etl"), 1,
                    dag, Map.of(), DeploymentSettings.defaults())).invoke(Run::takeQueuedAtStart);
            for (QueueTask root : roots) {
                taskRuns.newInstance(() -> new TaskRun(root));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
