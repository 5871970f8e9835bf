package io.dagy.gateway.settings;

import io.dagy.gateway.DagyApplication;
import io.dagy.tables.DagyTable;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.diagnostics.FailureAnalysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** In the aws profile, nothing has a default: a missing setting stops start-up with a message naming it. */
class AwsProfileSettingsTest {

    @Test
    void startingOnAwsWithoutSettingsFailsNamingEveryMissingVariable() {
        Throwable failure = catchThrowable(() -> startOnAws(Map.of()));

        InvalidSettingsException cause = rootCause(failure);
        assertThat(cause.getMessage()).contains("DAGY_RUNS", "DAGY_EVENTS", "DAGY_ARTIFACT_BUCKET", "DAGY_EVENTS_QUEUE_URL");
        assertThat(cause.problems()).hasSize(DagyTable.values().length + 2);
    }

    @Test
    void startingOnAwsWithOneTableMissingNamesJustThatVariable() {
        Map<String, Object> variables = completeAwsVariables();
        variables.remove("DAGY_TASK_RUNS");

        Throwable failure = catchThrowable(() -> startOnAws(variables));

        InvalidSettingsException cause = rootCause(failure);
        assertThat(cause.problems()).singleElement().satisfies(problem -> assertThat(problem).startsWith("DAGY_TASK_RUNS "));
        FailureAnalysis analysis = new InvalidSettingsFailureAnalyzer().analyze(failure);
        assertThat(analysis.getDescription()).contains("DAGY_TASK_RUNS").doesNotContain("DAGY_RUNS ");
    }

    @Test
    void invalidValuesAreNamedToo() {
        Map<String, Object> settings = completeAwsSettings();
        settings.put("dagy.tables.runs", "no spaces allowed");
        settings.put("dagy.events-queue-url", "not a url");

        assertThatThrownBy(() -> DagyResources.forAws(bind(settings)))
                .isInstanceOf(InvalidSettingsException.class)
                .hasMessageContaining("DAGY_RUNS is not a valid DynamoDB table name")
                .hasMessageContaining("DAGY_EVENTS_QUEUE_URL is not a queue URL");
    }

    @Test
    void completeSettingsResolveEveryResource() {
        DagyResources resources = DagyResources.forAws(bind(completeAwsSettings()));

        assertThat(resources.table(DagyTable.TASK_RUNS)).isEqualTo("prod-task-runs");
        assertThat(resources.artifactBucket()).isEqualTo("dagy-artifacts-prod");
        assertThat(resources.eventsQueueUrl().getHost()).isEqualTo("sqs.us-east-1.amazonaws.com");
    }

    /** Starts the application on the aws profile with these "environment variables" (as lowest-precedence properties). */
    private static void startOnAws(Map<String, Object> variables) {
        SpringApplication app = new SpringApplication(DagyApplication.class);
        app.setWebApplicationType(WebApplicationType.NONE);
        app.setAdditionalProfiles("aws");
        app.setDefaultProperties(variables);
        app.run().close();
    }

    private static Map<String, Object> completeAwsSettings() {
        Map<String, Object> settings = Arrays.stream(DagyTable.values()).collect(Collectors.toMap(
                table -> "dagy.tables." + table.name().toLowerCase().replace('_', '-'),
                table -> (Object) ("prod-" + table.name().toLowerCase().replace('_', '-'))));
        settings.put("dagy.artifact-bucket", "dagy-artifacts-prod");
        settings.put("dagy.events-queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/dagy-events-prod");
        return settings;
    }

    private static Map<String, Object> completeAwsVariables() {
        Map<String, Object> variables = Arrays.stream(DagyTable.values()).collect(Collectors.toMap(
                DagyTable::variable, table -> (Object) ("prod-" + table.name().toLowerCase().replace('_', '-'))));
        variables.put("DAGY_ARTIFACT_BUCKET", "dagy-artifacts-prod");
        variables.put("DAGY_EVENTS_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/dagy-events-prod");
        return variables;
    }

    private static DagyProperties bind(Map<String, Object> settings) {
        var source = new org.springframework.boot.context.properties.source.MapConfigurationPropertySource(settings);
        return new org.springframework.boot.context.properties.bind.Binder(source)
                .bindOrCreate("dagy", DagyProperties.class);
    }

    private static InvalidSettingsException rootCause(Throwable failure) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain.stream().filter(InvalidSettingsException.class::isInstance)
                .map(InvalidSettingsException.class::cast).findFirst()
                .orElseThrow(() -> new AssertionError("no InvalidSettingsException in " + failure));
    }
}
