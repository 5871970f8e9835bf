package io.dagy.command.run;

import io.dagy.command.deployment.Deployment;
import io.dagy.command.common.DagyRuleViolation;
import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import io.dagy.command.deployment.DeploymentIds;
import io.dagy.contracts.run.RunCommands.StartRun;
import io.dagy.contracts.run.RunId;
import io.dagy.command.task.TaskRun;
import io.dagy.contracts.run.TaskRunCommands.QueueTask;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.modelling.command.AggregateNotFoundException;
import org.axonframework.modelling.command.Repository;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts runs: reads the deployment's current version (strongly consistent, from its events) and creates the run
 * with a copy of it, and the task runs of its first tasks when they are few, in one unit of work. A run id that exists
 * already fails the append, so one id starts one run.
 */
public class RunStarter {

    /** The threads deployments are read on; a read takes milliseconds, so they are few at a time. */
    private static final ExecutorService PINNING = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "deployment-pin");
        thread.setDaemon(true);
        return thread;
    });

    private final Repository<Deployment> deployments;
    private final Repository<Run> runs;
    private final Repository<TaskRun> taskRuns;
    private final DeploymentIds deploymentIds;

    public RunStarter(Repository<Deployment> deployments, Repository<Run> runs, Repository<TaskRun> taskRuns,
                      DeploymentIds deploymentIds) {
        this.deployments = deployments;
        this.runs = runs;
        this.taskRuns = taskRuns;
        this.deploymentIds = deploymentIds;
    }

    @CommandHandler
    public RunId handle(StartRun command) throws Exception {
        List<BusinessError.FieldError> nulls = command.params().entrySet().stream().filter(param -> param.getValue() == null)
                .map(param -> new BusinessError.FieldError("params." + shortened(param.getKey()),
                        "must not be null (leave the key out instead)"))
                .toList();
        if (!nulls.isEmpty()) {
            throw new DagyRuleViolation(new BusinessError(ErrorCode.VALIDATION_FAILED, "The run's params are invalid.", nulls));
        }
        Deployment.Pinned pinned;
        try {
            pinned = pin(deploymentIds.aggregateId(command.organization(), command.deployment()));
        } catch (AggregateNotFoundException missing) {
            throw new DagyRuleViolation(BusinessError.of(ErrorCode.DEPLOYMENT_NOT_FOUND,
                    "No deployment is named '" + command.deployment() + "'."));
        }
        List<QueueTask> roots = runs.newInstance(() -> new Run(command.runId(), command.organization(),
                command.deployment(), pinned.version(), pinned.dag(), command.params(), pinned.settings()))
                .invoke(Run::takeQueuedAtStart);
        for (QueueTask root : roots) {
            taskRuns.newInstance(() -> new TaskRun(root)); // in the run's commit: its first tasks are dispatched with it
        }
        return command.runId();
    }

    /**
     * The deployment's current version, read in a unit of work of its own (on another thread, since a unit of work
     * started here would be nested in the run's and keep the lock until the run commits). The deployment's lock is
     * held only while it is read: starts of one deployment no longer wait for each other's commits, and a run pins
     * the version current when it was read, as if it had started just before a publish that commits meanwhile.
     */
    private Deployment.Pinned pin(String deploymentId) throws Exception {
        var read = PINNING.submit(() -> {
            var result = DefaultUnitOfWork.startAndGet(null)
                    .executeWithResult(() -> deployments.load(deploymentId).invoke(Deployment::pin));
            if (result.isExceptional()) {
                throw result.exceptionResult() instanceof Exception failure ? failure
                        : new IllegalStateException(result.exceptionResult());
            }
            return result.getPayload();
        });
        try {
            return read.get();
        } catch (ExecutionException failed) {
            throw failed.getCause() instanceof Exception cause ? cause : failed;
        }
    }

    private static String shortened(String key) {
        return key.length() <= 64 ? key : key.substring(0, 64) + "…";
    }
}
