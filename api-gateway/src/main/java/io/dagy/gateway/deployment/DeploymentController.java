package io.dagy.gateway.deployment;

import io.dagy.command.deployment.Deployment;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.deployment.DeploymentCommands.ChangeDeploymentSettings;
import io.dagy.contracts.deployment.DeploymentCommands.PublishDeployment;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentQueries.DeploymentPage;
import io.dagy.contracts.deployment.DeploymentQueries.DeploymentView;
import io.dagy.contracts.deployment.DeploymentQueries.FindDeployment;
import io.dagy.contracts.deployment.DeploymentQueries.ListDeployments;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.schedule.ScheduleId;
import io.dagy.contracts.schedule.ScheduleSpec;
import io.dagy.gateway.deployment.DeploymentJson.DagRequest;
import io.dagy.gateway.deployment.DeploymentJson.DeploymentPageResponse;
import io.dagy.gateway.deployment.DeploymentJson.DeploymentResponse;
import io.dagy.gateway.deployment.DeploymentJson.PublishResponse;
import io.dagy.gateway.deployment.DeploymentJson.SettingsRequest;
import io.dagy.gateway.deployment.DeploymentJson.SettingsResponse;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.Caller;
import io.dagy.gateway.web.RequestChecks;
import io.dagy.query.paging.PageCursor;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.axonframework.modelling.command.AggregateNotFoundException;
import org.axonframework.queryhandling.QueryGateway;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Deployments of the caller's organization: publish a DAG under a name (each change a new version), read them, change
 * their settings. A name is unique within an organization; another organization's deployment is not found.
 */
@RestController
@RequestMapping("/v1/deployments")
class DeploymentController {

    private final CommandGateway commands;
    private final QueryGateway queries;

    DeploymentController(CommandGateway commands, QueryGateway queries) {
        this.commands = commands;
        this.queries = queries;
    }

    @PutMapping(path = "/{name}", consumes = "application/json")
    PublishResponse publish(Caller caller, @PathVariable String name, @RequestBody DagRequest dag) {
        if (!DeploymentName.isValid(name)) {
            throw ProblemException.invalid("name", "1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit");
        }
        Deployment.Published published = commands.sendAndWait(
                new PublishDeployment(caller.org(), new DeploymentName(name), dag.toDraft()));
        return new PublishResponse(name, published.version(), published.changed());
    }

    @GetMapping("/{name}")
    DeploymentResponse find(Caller caller, @PathVariable String name) {
        DeploymentView view = queries.query(new FindDeployment(caller.org(), deploymentName(name)),
                        ResponseTypes.optionalInstanceOf(DeploymentView.class)).join()
                .orElseThrow(() -> notFound(name));
        return DeploymentResponse.of(view);
    }

    /** Deployments by name; pass {@code next_cursor} of a page as {@code cursor} to get the next one. */
    @GetMapping
    DeploymentPageResponse list(Caller caller, @RequestParam(required = false) String cursor,
                                @RequestParam(defaultValue = "50") int limit) {
        RequestChecks.cursor(cursor, PageCursor.DEPLOYMENTS);
        DeploymentPage page = queries.query(new ListDeployments(caller.org(), cursor, Math.max(1, Math.min(limit, 100))),
                ResponseTypes.instanceOf(DeploymentPage.class)).join();
        return new DeploymentPageResponse(page.items().stream().map(DeploymentResponse::of).toList(), page.nextAfter());
    }

    /**
     * Changes only the fields sent; runs already started keep the settings they started with. {@code schedule} is the
     * shorthand for the deployment's schedule {@code settings} (UTC, overlap skip): set, replaced, or removed by
     * {@code ""}. It is checked before anything changes.
     */
    @PutMapping(path = "/{name}/settings", consumes = "application/json")
    SettingsResponse changeSettings(Caller caller, @PathVariable String name, @RequestBody SettingsRequest settings) {
        DeploymentName deployment = deploymentName(name);
        ScheduleSpec schedule = settings.schedule() == null || settings.schedule().isBlank() ? null
                : SettingsSchedule.spec(settings.schedule());
        DeploymentSettings changed;
        try {
            changed = commands.sendAndWait(new ChangeDeploymentSettings(caller.org(), deployment, settings.toPatch()));
        } catch (AggregateNotFoundException missing) {
            throw notFound(name);
        }
        if (settings.schedule() != null) {
            SettingsSchedule.apply(commands, new ScheduleId(caller.org(), deployment, ScheduleId.SETTINGS), schedule);
        }
        return SettingsResponse.of(changed, settings.schedule());
    }

    private static DeploymentName deploymentName(String name) {
        if (!DeploymentName.isValid(name)) {
            throw notFound(name);
        }
        return new DeploymentName(name);
    }

    private static ProblemException notFound(String name) {
        return ProblemException.of(ErrorCode.DEPLOYMENT_NOT_FOUND, "No deployment is named '" + name + "'.");
    }
}
