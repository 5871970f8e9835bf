package io.dagy.gateway.observability;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.DefaultResourceLoader;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With the {@code aws} profile the node logs one JSON object per line (Logstash's field names), with the logging
 * context a handled message puts in the MDC (docs/operations.md): what CloudWatch Logs Insights queries by field.
 * The application's own {@code application.yml} is read, in a context with no beans of Dagy's, so nothing reaches AWS.
 */
@ExtendWith(OutputCaptureExtension.class)
class AwsProfileLogsTest {

    @Configuration(proxyBeanMethods = false)
    static class NoBeans {
    }

    /**
     * The test class path without the tests' {@code logback-test.xml}, which Spring Boot would prefer to its own
     * configuration: the node's jar has none, so its logging is configured from {@code application.yml} alone.
     */
    static final class WithoutTestLogConfig extends ClassLoader {
        WithoutTestLogConfig() {
            super(AwsProfileLogsTest.class.getClassLoader());
        }

        @Override
        public URL getResource(String name) {
            return name.startsWith("logback-test") ? null : super.getResource(name);
        }

        @Override
        public Enumeration<URL> getResources(String name) throws IOException {
            return name.startsWith("logback-test") ? Collections.emptyEnumeration() : super.getResources(name);
        }
    }

    /**
     * Spring Boot configures logging once per logger context: a test context the JVM still holds (the test context
     * cache keeps them open) has marked it configured, and this test's context would then keep their configuration.
     */
    @BeforeEach
    void letThisContextConfigureLogging() {
        ((LoggerContext) LoggerFactory.getILoggerFactory()).removeObject(LoggingSystem.class.getName());
    }

    /** The other tests of this JVM log as {@code logback-test.xml} says, not in JSON. */
    @AfterEach
    void restoreTheTestsLogging() throws Exception {
        LoggerContext logging = (LoggerContext) LoggerFactory.getILoggerFactory();
        logging.reset();
        new ContextInitializer(logging).autoConfig();
    }

    @Test
    void theAwsProfileLogsOneJsonObjectPerLineWithTheMessagesContext(CapturedOutput output) {
        try (var ignored = new SpringApplicationBuilder(NoBeans.class).profiles("aws").web(WebApplicationType.NONE)
                .bannerMode(Banner.Mode.OFF).resourceLoader(new DefaultResourceLoader(new WithoutTestLogConfig()))
                .run()) {
            MDC.put("run_id", "r-1");
            MDC.put("org", "acme");
            try {
                LoggerFactory.getLogger("io.dagy.test").info("attempt {} started", 3);
            } finally {
                MDC.clear();
            }
        }

        String line = output.getOut().lines().filter(l -> l.contains("attempt 3 started")).findFirst().orElseThrow();
        JsonNode json = JsonMapper.builder().build().readTree(line);
        assertThat(json.get("message").asString()).isEqualTo("attempt 3 started");
        assertThat(json.get("level").asString()).isEqualTo("INFO");
        assertThat(json.get("logger_name").asString()).isEqualTo("io.dagy.test");
        assertThat(json.has("@timestamp")).isTrue();
        assertThat(json.get("run_id").asString()).isEqualTo("r-1");
        assertThat(json.get("org").asString()).isEqualTo("acme");
    }
}
