package io.dagy.gateway.observability;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

import java.util.Map;

/**
 * The management port (Prometheus's scrape target): {@code DAGY_MANAGEMENT_PORT}, else the API port plus 1000
 * (8080 gives 9080), so several nodes on one machine, each on its own {@code DAGY_PORT}, never collide; with the API
 * on any free port (0), the management server takes any free port too.
 */
public class ManagementPortDefault implements EnvironmentPostProcessor {

    static final int OFFSET = 1000;

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (environment.containsProperty("management.server.port")) {
            return;
        }
        String configured = environment.getProperty("DAGY_MANAGEMENT_PORT");
        int port;
        if (configured != null && !configured.isBlank()) {
            port = Integer.parseInt(configured.trim());
        } else {
            int api = environment.getProperty("server.port", Integer.class, 8080);
            port = api <= 0 ? 0 : api + OFFSET;
        }
        environment.getPropertySources().addLast(new MapPropertySource("dagyManagementPort",
                Map.of("management.server.port", port)));
    }
}
