package io.dagy.gateway.health;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;

/** {@code GET /health} (the process is up) and {@code GET /health/detailed} (and can use its dependencies). */
@RestController
class HealthController {

    private final DependencyProbes probes;
    private final StoreOutage outage;
    private final Clock clock;
    private final String version;

    HealthController(DependencyProbes probes, StoreOutage outage, ObjectProvider<BuildProperties> build,
                     ObjectProvider<Clock> clock) {
        this.probes = probes;
        this.outage = outage;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        BuildProperties properties = build.getIfAvailable();
        this.version = properties == null ? "dev" : properties.getVersion();
    }

    /** 200 while the node can work; 503 while its database cannot be reached (known without a probe per call). */
    @GetMapping("/health")
    ResponseEntity<Health> health() {
        if (outage.isDown()) {
            return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                    .header("Retry-After", Long.toString(outage.retryAfterSeconds()))
                    .body(new Health(ComponentHealth.UNHEALTHY, now(), version));
        }
        return ResponseEntity.ok(new Health(ComponentHealth.HEALTHY, now(), version));
    }

    /** 200 when every dependency answers, else 503 with the failing components marked {@code unhealthy}. */
    @GetMapping("/health/detailed")
    ResponseEntity<DetailedHealth> detailed() {
        Map<String, ComponentHealth> components = probes.probeAll();
        boolean healthy = components.values().stream().allMatch(ComponentHealth::healthy);
        var body = new DetailedHealth(healthy ? ComponentHealth.HEALTHY : ComponentHealth.UNHEALTHY, now(), version,
                components);
        return ResponseEntity.status(healthy ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).body(body);
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.SECONDS);
    }

    record Health(String status, Instant timestamp, String version) {
    }

    record DetailedHealth(String status, Instant timestamp, String version, Map<String, ComponentHealth> components) {
    }
}
