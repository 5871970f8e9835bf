package io.dagy.infra;

import software.amazon.awscdk.App;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.Tags;

import java.nio.file.Path;

/**
 * The CDK app: {@code cdk deploy -c environment=develop} (or {@code DAGY_ENVIRONMENT=develop}) deploys the environment
 * described by {@code environments/develop.yml}: the stacks {@code dagy-develop-images} and {@code dagy-develop}.
 */
public final class DagyApp {

    private DagyApp() {
    }

    public static void main(String[] args) {
        App app = new App();
        Object fromContext = app.getNode().tryGetContext("environment");
        String environment = fromContext != null ? fromContext.toString() : System.getenv("DAGY_ENVIRONMENT");
        if (environment == null || environment.isBlank()) {
            throw new IllegalArgumentException("Name the environment: cdk deploy -c environment=<name>, where"
                    + " environments/<name>.yml holds its settings");
        }
        Object directory = app.getNode().tryGetContext("environments");
        build(app, SettingsFile.load(Path.of(directory != null ? directory.toString() : "environments"), environment));
        app.synth();
    }

    /** Adds one environment's stacks to {@code app}. */
    public static Stacks build(App app, Settings settings) {
        StackProps props = StackProps.builder()
                .env(Environment.builder().account(settings.account()).region(settings.region()).build())
                .terminationProtection(settings.production())
                .build();
        DagyImagesStack images = new DagyImagesStack(app, "dagy-" + settings.environment() + "-images", props, settings);
        DagyStack stack = new DagyStack(app, "dagy-" + settings.environment(), props, settings);
        stack.addDependency(images);
        settings.tags().forEach((key, value) -> {
            Tags.of(images).add(key, value);
            Tags.of(stack).add(key, value);
        });
        return new Stacks(images, stack);
    }

    public record Stacks(DagyImagesStack images, DagyStack service) {
    }
}
