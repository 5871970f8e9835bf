package io.dagy.gateway.settings;

import io.dagy.command.deployment.BackendPolicy;
import io.dagy.contracts.deployment.BackendType;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code local} backend runs shell commands on the node: the aws profile turns it off unless
 * {@code DAGY_LOCAL_BACKEND_ENABLED=true}; the local profile has it on. Read from application.yml as the application
 * reads it (only the configuration, no AWS needed).
 */
class LocalBackendSettingTest {

    @Configuration(proxyBeanMethods = false)
    static class SettingsOnly {
    }

    @Test
    void theAwsProfileRefusesTheLocalBackendByDefault() {
        assertThat(policy("aws", Map.of()).allows(BackendType.LOCAL)).isFalse();
    }

    @Test
    void theAwsProfileAllowsItWhenTheOperatorSaysSo() {
        assertThat(policy("aws", Map.of("DAGY_LOCAL_BACKEND_ENABLED", "true")).allows(BackendType.LOCAL)).isTrue();
    }

    @Test
    void theLocalProfileAllowsIt() {
        assertThat(policy("local", Map.of()).allows(BackendType.LOCAL)).isTrue();
    }

    private static BackendPolicy policy(String profile, Map<String, Object> variables) {
        SpringApplication app = new SpringApplication(SettingsOnly.class);
        app.setWebApplicationType(WebApplicationType.NONE);
        app.setAdditionalProfiles(profile);
        app.setDefaultProperties(variables);
        try (ConfigurableApplicationContext context = app.run()) {
            return BackendPolicy.of(context.getEnvironment().getProperty("dagy.local-backend-enabled", Boolean.class, true));
        }
    }
}
