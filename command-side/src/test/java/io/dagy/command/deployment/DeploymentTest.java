package io.dagy.command.deployment;

import io.dagy.contracts.identity.OrgId;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.command.common.DagyRuleViolation;
import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.deployment.DagDraft;
import io.dagy.contracts.deployment.DagDraft.BackendDraft;
import io.dagy.contracts.deployment.DagDraft.RetryDraft;
import io.dagy.contracts.deployment.DagDraft.TaskDraft;
import io.dagy.contracts.deployment.DagDraft.TimeoutsDraft;
import io.dagy.contracts.deployment.DeploymentCommands.ChangeDeploymentSettings;
import io.dagy.contracts.deployment.DeploymentCommands.PublishDeployment;
import io.dagy.contracts.deployment.DeploymentEvents.DeploymentPublished;
import io.dagy.contracts.deployment.DeploymentEvents.DeploymentSettingsChanged;
import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.deployment.DeploymentSettings;
import io.dagy.contracts.deployment.DeploymentSettings.SettingsPatch;
import io.dagy.contracts.deployment.TriggerRule;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class DeploymentTest {

    private static final DeploymentName ETL = new DeploymentName("daily-etl");
    private static final OrgId ACME = new OrgId("acme");

    private AggregateTestFixture<Deployment> fixture;

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(Deployment.class);
        fixture.registerCommandTargetResolver(new DagyCommandTargetResolver(new DeploymentIds(name -> false)));
        fixture.registerInjectableResource(BackendPolicy.allowingAll());
    }

    private static TaskDraft local(String id, String... dependsOn) {
        return new TaskDraft(id, new BackendDraft("local", Map.of("command", List.of("echo", id))), List.of(dependsOn),
                null, null, null, null);
    }

    private static DagDraft diamond() {
        return new DagDraft("diamond", List.of(local("extract"), local("left", "extract"), local("right", "extract"),
                local("load", "left", "right")));
    }

    private DeploymentPublished published(int version, DagDraft draft) {
        var result = (DagValidator.Valid) DagValidator.validate(draft);
        return new DeploymentPublished(ACME, ETL, version, result.dag(), DeploymentSettings.defaults());
    }

    @Test
    void publishingAValidDagCreatesVersionOneWithDefaults() {
        fixture.givenNoPriorActivity()
                .when(new PublishDeployment(ACME, ETL, diamond()))
                .expectSuccessfulHandlerExecution()
                .expectEvents(published(1, diamond()))
                .expectResultMessagePayload(new Deployment.Published(1, true));
    }

    @Test
    void publishingTheSameDagAgainChangesNothing() {
        fixture.given(published(1, diamond()))
                .when(new PublishDeployment(ACME, ETL, diamond()))
                .expectNoEvents()
                .expectResultMessagePayload(new Deployment.Published(1, false));
    }

    @Test
    void aChangedDagBecomesTheNextVersion() {
        DagDraft changed = new DagDraft("two", List.of(local("only")));
        fixture.given(published(1, diamond()))
                .when(new PublishDeployment(ACME, ETL, changed))
                .expectEvents(published(2, changed));
    }

    @Test
    void defaultsAreFilledInForRetriesTriggerRulesAndTimeouts() {
        var dag = ((DagValidator.Valid) DagValidator.validate(new DagDraft(null, List.of(local("a"))))).dag();
        var task = dag.tasks().get(0);

        assertThat(task.triggerRule()).isEqualTo(TriggerRule.ALL_SUCCESS);
        assertThat(task.retry().maxAttempts()).isEqualTo(1);
        assertThat(task.retry().retryOn()).containsExactly("*");
        assertThat(task.timeouts().startToClose()).isNull();
    }

    @Test
    void theLocalBackendIsRefusedWhereThePolicyDisablesItAndNothingIsStored() {
        fixture = new AggregateTestFixture<>(Deployment.class);
        fixture.registerCommandTargetResolver(new DagyCommandTargetResolver(new DeploymentIds(name -> false)));
        fixture.registerInjectableResource(BackendPolicy.of(false));
        fixture.givenNoPriorActivity()
                .when(new PublishDeployment(ACME, ETL, diamond()))
                .expectException(DagyRuleViolation.class)
                .expectException(org.hamcrest.Matchers.hasProperty("details",
                        org.hamcrest.Matchers.hasToString(org.hamcrest.Matchers.containsString("tasks[0].backend.type"))))
                .expectNoEvents();
    }

    @Test
    void theSameNameInAnotherOrganizationIsAnotherDeployment() {
        assertThat(new PublishDeployment(ACME, ETL, diamond()).targetAggregateId())
                .isEqualTo("deployment:acme:daily-etl")
                .isNotEqualTo(new PublishDeployment(new OrgId("other"), ETL, diamond()).targetAggregateId());
    }

    @Test
    void everyProblemOfAnInvalidDagIsReportedAtOnce() {
        DagDraft broken = new DagDraft("broken", List.of(
                local("a"),
                local("a"),
                new TaskDraft("b", new BackendDraft("quantum", Map.of()), List.of("nope"), "most_success",
                        new RetryDraft(0, "soon", 0.5, "PT1S", null, List.of()), new TimeoutsDraft(null, "PT0S", "-PT1S"),
                        null),
                new TaskDraft("c", new BackendDraft("local", Map.of()), List.of(), null, null, null, null)));

        fixture.givenNoPriorActivity()
                .when(new PublishDeployment(ACME, ETL, broken))
                .expectException(DagyRuleViolation.class)
                .expectNoEvents();
        var invalid = (DagValidator.Invalid) DagValidator.validate(broken);
        assertThat(invalid.errors()).extracting(FieldError::field).containsExactlyInAnyOrder(
                "tasks[1].id", "tasks[2].backend.type", "tasks[2].depends_on[0]", "tasks[2].trigger_rule",
                "tasks[2].retry.max_attempts", "tasks[2].retry.initial_interval", "tasks[2].retry.backoff_rate",
                "tasks[2].retry.retry_on", "tasks[2].timeouts.start_to_close", "tasks[2].timeouts.heartbeat",
                "tasks[3].backend.command");
        assertThat(invalid.errors()).filteredOn(e -> e.field().equals("tasks[1].id"))
                .singleElement().satisfies(e -> assertThat(e.message()).contains("duplicate task id 'a'"));
    }

    @Test
    void aCycleIsReportedWithTheTasksInIt() {
        DagDraft cyclic = new DagDraft(null, List.of(local("start"), local("x", "start", "z"), local("y", "x"),
                local("z", "y")));

        var invalid = (DagValidator.Invalid) DagValidator.validate(cyclic);

        assertThat(invalid.errors()).singleElement().satisfies(error -> {
            assertThat(error.field()).isEqualTo("tasks");
            assertThat(error.message()).contains("cycle").contains("x").contains("y").contains("z").doesNotContain("start");
        });
    }

    @Test
    void retryValuesAreParsedIntoThePolicy() {
        DagDraft draft = new DagDraft(null, List.of(new TaskDraft("t", new BackendDraft("noop", null), null, "all_done",
                new RetryDraft(4, "PT2S", 3.0, "PT1M", false, List.of("timeout", "exit_1")),
                new TimeoutsDraft("PT10S", "PT5M", "PT30S"), Map.of("x", 1))));

        var task = ((DagValidator.Valid) DagValidator.validate(draft)).dag().tasks().get(0);

        assertThat(task.retry().maxAttempts()).isEqualTo(4);
        assertThat(task.retry().initialInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(task.retry().backoffRate()).isEqualTo(3.0);
        assertThat(task.retry().jitter()).isFalse();
        assertThat(task.retry().retryOn()).containsExactly("timeout", "exit_1");
        assertThat(task.timeouts().heartbeat()).isEqualTo(Duration.ofSeconds(30));
        assertThat(task.triggerRule()).isEqualTo(TriggerRule.ALL_DONE);
    }

    @Test
    void onlyTheSettingsSentChange() {
        var patch = new SettingsPatch("micro", null, null);
        fixture.given(published(1, diamond()))
                .when(new ChangeDeploymentSettings(ACME, ETL, patch))
                .expectEvents(new DeploymentSettingsChanged(ETL, new DeploymentSettings("micro", List.of(), Map.of())));
    }

    @Test
    void anUnknownExecutionModeIsRejected() {
        fixture.given(published(1, diamond()))
                .when(new ChangeDeploymentSettings(ACME, ETL, new SettingsPatch("gigantic", null, null)))
                .expectException(DagyRuleViolation.class)
                .expectNoEvents();
    }
}
