package io.dagy.gateway.aws;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.annotation.Profile;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/** The one line a developer looks for after the start command: where the API is. */
@Component
@Profile("local")
class LocalStartupLog {

    private static final Logger log = LoggerFactory.getLogger(LocalStartupLog.class);

    private final LocalStackLease lease;
    private final Environment environment;

    LocalStartupLog(LocalStackLease lease, Environment environment) {
        this.lease = lease;
        this.environment = environment;
    }

    @EventListener(ApplicationReadyEvent.class)
    @org.springframework.core.annotation.Order(10) // after the owner key is made (LocalOwnerKeyConfiguration)
    void announce() {
        String host = environment.getProperty("server.address", "127.0.0.1");
        String port = environment.getProperty("local.server.port", environment.getProperty("server.port", "8080"));
        log.info("Dagy API on http://{}:{} (local stack: DynamoDB {}, SQS {}, S3 {})", host, port,
                lease.stack().dynamoDbEndpoint(), lease.stack().sqsEndpoint(), lease.stack().s3Endpoint());
    }
}
