package io.dagy.infra;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading environments/<name>.yml: the guide's format, strict about keys, every problem at once. No Node needed. */
class SettingsFileTest {

    @TempDir
    Path directory;

    @Test
    void theGuidesDevelopExampleReadsWithDefaults() throws IOException {
        write("develop", """
                ---
                environment: develop
                region: us-east-1
                app: dagy
                owner: data
                company: my-company
                project_cost: engineering
                aws_account: "123456789012"
                python_version: "3.12"
                dagy:
                  ecr_repository_name: "dagy-service-worker-develop"
                  ecr_push_principals:
                    - "arn:aws:iam::123456789012:role/eqx-buildmaster"
                  api_cors_allowed_origins:
                    - "http://localhost:3000"
                """);
        Settings settings = SettingsFile.load(directory, "develop");
        assertThat(settings.production()).isFalse();
        assertThat(settings.service().desiredCount()).isEqualTo(1);
        assertThat(settings.service().vpcId()).isEmpty();
        assertThat(settings.secrets()).containsEntry("DAGY_SECRETS_KEY", "dagy/develop/DAGY_SECRETS_KEY");
        assertThat(settings.tags()).containsEntry("project_cost", "engineering").containsEntry("environment", "develop");
        assertThat(settings.name("runs")).isEqualTo("dagy-runs-develop");
    }

    @Test
    void anEnvironmentNamedProductionIsProtectedByDefault() throws IOException {
        write("production", "environment: production\nregion: eu-west-1\naws_account: \"987654321098\"\n");
        Settings settings = SettingsFile.load(directory, "production");
        assertThat(settings.production()).isTrue();
        assertThat(settings.service().desiredCount()).isEqualTo(2);
    }

    @Test
    void aMisspeltKeyIsRefusedRatherThanIgnored() throws IOException {
        write("develop", """
                environment: develop
                region: us-east-1
                aws_account: "123456789012"
                dagy:
                  jwt_requried: true
                """);
        assertThatThrownBy(() -> SettingsFile.load(directory, "develop"))
                .hasMessageContaining("unknown key dagy.jwt_requried");
    }

    @Test
    void everyProblemIsReportedAtOnce() throws IOException {
        write("staging", """
                environment: develop
                aws_account: 12345
                dagy:
                  jwt_required: true
                  vpc_id: vpc-1
                  environment_variables:
                    JAVA_HOME: /opt
                  secrets:
                    PASSWORD: some/secret
                  backends:
                    ecs_task_definitions: ["arn:aws:ecs:us-east-1:1:task-definition/a:1"]
                """);
        assertThatThrownBy(() -> SettingsFile.load(directory, "staging"))
                .hasMessageContaining("environment is 'develop' but the file is staging.yml")
                .hasMessageContaining("region is required")
                .hasMessageContaining("aws_account must be 12 digits")
                .hasMessageContaining("dagy.jwt_issuer, dagy.jwt_audience and dagy.jwks_url are required")
                .hasMessageContaining("dagy.subnet_ids must list")
                .hasMessageContaining("dagy.environment_variables.JAVA_HOME")
                .hasMessageContaining("dagy.secrets.PASSWORD")
                .hasMessageContaining("ecs_task_roles must list");
    }

    @Test
    void aSecretCannotAlsoBeAPlainVariable() throws IOException {
        write("develop", """
                environment: develop
                region: us-east-1
                aws_account: "123456789012"
                dagy:
                  environment_variables:
                    DAGY_SECRETS_KEY: not-here
                """);
        assertThatThrownBy(() -> SettingsFile.load(directory, "develop"))
                .hasMessageContaining("DAGY_SECRETS_KEY is both a plain variable and a secret");
    }

    @Test
    void aMissingEnvironmentFileIsNamed() {
        assertThatThrownBy(() -> SettingsFile.load(directory, "nowhere"))
                .hasMessageContaining("nowhere.yml does not exist");
    }

    private void write(String environment, String yaml) throws IOException {
        Files.writeString(directory.resolve(environment + ".yml"), yaml);
    }
}
