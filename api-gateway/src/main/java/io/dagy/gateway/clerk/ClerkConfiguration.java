package io.dagy.gateway.clerk;

import io.dagy.gateway.settings.DagyProperties;
import io.dagy.gateway.settings.DagyResources;
import io.dagy.gateway.settings.InvalidSettingsException;
import io.dagy.gateway.web.WebhookDeliveries;
import io.dagy.projection.user.UserDirectory;
import io.dagy.projection.user.UserDirectoryProjection;
import io.dagy.tables.DagyTable;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import tools.jackson.databind.json.JsonMapper;

import java.time.Clock;
import java.util.List;

/** Users from the identity provider: its webhook, the {@code user-directory} projection and the directory. */
@Configuration(proxyBeanMethods = false)
class ClerkConfiguration {

    /** The processed deliveries' items in {@code DAGY_USERS}: {@code clerk-delivery#<svix-id>}. */
    static final String DELIVERY_PREFIX = "clerk-delivery#";

    private static final Logger log = LoggerFactory.getLogger(ClerkConfiguration.class);

    /** The application's clock if it has one (tests move it), else the system's. */
    @Bean
    SvixSignature clerkWebhookSignature(DagyProperties properties, ObjectProvider<Clock> clock, Environment environment) {
        SvixSignature signature;
        try {
            signature = SvixSignature.of(properties.clerk().webhookSecret(), clock.getIfUnique(Clock::systemUTC));
        } catch (IllegalArgumentException invalid) {
            throw new InvalidSettingsException(String.join(",", environment.getActiveProfiles()),
                    List.of("DAGY_CLERK_WEBHOOK_SECRET is not a Clerk signing secret: " + invalid.getMessage()));
        }
        if (!signature.configured()) {
            log.warn("DAGY_CLERK_WEBHOOK_SECRET is not set: POST /webhooks/clerk refuses every delivery, so no user "
                    + "is added or deleted (docs/identity-provider.md)");
        }
        return signature;
    }

    @Bean
    ClerkWebhook clerkWebhook(SvixSignature signature, DynamoDbClient dynamoDb, DagyResources resources, JsonMapper json,
                              CommandGateway commands, ObjectProvider<Clock> clock) {
        return new ClerkWebhook(signature,
                new WebhookDeliveries(dynamoDb, resources.table(DagyTable.USERS), DELIVERY_PREFIX,
                        clock.getIfUnique(Clock::systemUTC)),
                new ClerkEvents(json), commands);
    }

    @Bean
    UserDirectoryProjection userDirectoryProjection(DynamoDbClient dynamoDb, DagyResources resources, Serializer serializer) {
        return new UserDirectoryProjection(dynamoDb, resources.table(DagyTable.USERS), serializer);
    }

    /** Whether a user exists and is not deleted; authentication asks it for every token's subject. */
    @Bean
    UserDirectory userDirectory(DynamoDbClient dynamoDb, DagyResources resources, Serializer serializer) {
        return new UserDirectory(dynamoDb, resources.table(DagyTable.USERS), serializer);
    }
}
