package io.dagy.gateway.deployment;

import io.dagy.command.deployment.Deployment;
import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.deployment.DeploymentCommands.ChangeDeploymentSettings;
import io.dagy.contracts.deployment.DeploymentCommands.PublishDeployment;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentQueries.DeploymentPage;
import io.dagy.contracts.deployment.DeploymentQueries.DeploymentView;
import io.dagy.contracts.deployment.DeploymentQueries.FindDeployment;
import io.dagy.contracts.deployment.DeploymentQueries.ListDeployments;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.gateway.deployment.DeploymentJson.DagRequest;
import io.dagy.gateway.deployment.DeploymentJson.DeploymentPageResponse;
import io.dagy.gateway.deployment.DeploymentJson.DeploymentResponse;
import io.dagy.gateway.deployment.DeploymentJson.PublishResponse;
import io.dagy.gateway.deployment.DeploymentJson.SettingsRequest;
import io.dagy.gateway.deployment.DeploymentJson.SettingsResponse;
import io.dagy.gateway.problem.Problems;
import io.dagy.gateway.web.RequestChecks;
import io.dagy.query.paging.PageCursor;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.messaging.responsetypes.ResponseTypes;
import org.axonframework.modelling.command.AggregateNotFoundException;
import org.axonframework.queryhandling.QueryGateway;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.List;
import java.util.Optional;

/** Deployments: publish a DAG under a name (each change a new version), read them, change their settings. */
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
    ResponseEntity<?> publish(@PathVariable String name, @RequestBody DagRequest dag) {
        if (!DeploymentName.isValid(name)) {
            return invalidName(name);
        }
        Deployment.Published published = commands.sendAndWait(new PublishDeployment(new DeploymentName(name), dag.toDraft()));
        return ResponseEntity.ok(new PublishResponse(name, published.version(), published.changed()));
    }

    @GetMapping("/{name}")
    ResponseEntity<?> find(@PathVariable String name) {
        if (!DeploymentName.isValid(name)) {
            return notFound(name);
        }
        Optional<DeploymentView> view = queries.query(new FindDeployment(new DeploymentName(name)),
                ResponseTypes.optionalInstanceOf(DeploymentView.class)).join();
        return view.<ResponseEntity<?>>map(v -> ResponseEntity.ok(DeploymentResponse.of(v))).orElseGet(() -> notFound(name));
    }

    /** Deployments by name; pass {@code next_cursor} of a page as {@code cursor} to get the next one. */
    @GetMapping
    DeploymentPageResponse list(@RequestParam(required = false) String cursor,
                                @RequestParam(defaultValue = "50") int limit) {
        RequestChecks.cursor(cursor, PageCursor.DEPLOYMENTS);
        DeploymentPage page = queries.query(new ListDeployments(cursor, Math.max(1, Math.min(limit, 100))),
                ResponseTypes.instanceOf(DeploymentPage.class)).join();
        return new DeploymentPageResponse(page.items().stream().map(DeploymentResponse::of).toList(), page.nextAfter());
    }

    /** Changes only the fields sent; runs already started keep the settings they started with. */
    @PutMapping(path = "/{name}/settings", consumes = "application/json")
    ResponseEntity<?> changeSettings(@PathVariable String name, @RequestBody SettingsRequest settings) {
        if (!DeploymentName.isValid(name)) {
            return notFound(name);
        }
        try {
            DeploymentSettings changed = commands.sendAndWait(
                    new ChangeDeploymentSettings(new DeploymentName(name), settings.toPatch()));
            return ResponseEntity.ok(SettingsResponse.of(changed));
        } catch (AggregateNotFoundException missing) {
            return notFound(name);
        }
    }

    private static ResponseEntity<ProblemDetail> notFound(String name) {
        ProblemDetail problem = Problems.of(BusinessError.of(ErrorCode.DEPLOYMENT_NOT_FOUND,
                "No deployment is named '" + name + "'."));
        return ResponseEntity.status(problem.getStatus()).body(problem);
    }

    private static ResponseEntity<ProblemDetail> invalidName(String name) {
        ProblemDetail problem = Problems.of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The deployment name is invalid.",
                List.of(new BusinessError.FieldError("name",
                        "1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"))));
        return ResponseEntity.status(problem.getStatus()).body(problem);
    }
}
