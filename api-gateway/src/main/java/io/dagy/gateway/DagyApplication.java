package io.dagy.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** Dagy's backend. Without AWS settings it runs the {@code local} profile on its embedded AWS stack. */
@SpringBootApplication(scanBasePackages = {"io.dagy.gateway", "io.dagy.command", "io.dagy.saga"})
@ConfigurationPropertiesScan
public class DagyApplication {

    public static void main(String[] args) {
        SpringApplication.run(DagyApplication.class, args);
    }
}
