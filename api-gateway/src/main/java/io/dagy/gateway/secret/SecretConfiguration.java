package io.dagy.gateway.secret;

import io.dagy.gateway.settings.DagyResources;
import io.dagy.gateway.settings.InvalidSettingsException;
import io.dagy.saga.secret.SecretResolver;
import io.dagy.saga.secret.SecretStore;
import io.dagy.tables.DagyTable;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.util.List;
import java.util.Optional;

/**
 * Secrets in {@code DAGY_SECRETS} under the Fernet key {@code DAGY_SECRETS_KEY}. Without a key there is no store:
 * {@code /v1/secrets} answers 503 and a task naming a secret fails with {@code secret_unavailable}.
 */
@Configuration(proxyBeanMethods = false)
class SecretConfiguration {

    /** The store, if this installation has a key. */
    record Secrets(Optional<SecretStore> store) {
    }

    @Bean
    Secrets secrets(@Value("${dagy.secrets.key:}") String key, DynamoDbClient dynamoDb, DagyResources resources) {
        if (key == null || key.isBlank()) {
            return new Secrets(Optional.empty());
        }
        try {
            return new Secrets(Optional.of(new SecretStore(dynamoDb, resources.table(DagyTable.SECRETS), key.strip())));
        } catch (RuntimeException e) {
            // the message of a bad key could echo it: say only what is wrong
            throw new InvalidSettingsException("current", List.of("DAGY_SECRETS_KEY is not a Fernet key (32 bytes in "
                    + "URL-safe Base64, as Fernet.generate_key() makes)"));
        }
    }

    @Bean
    SecretResolver secretResolver(Secrets secrets) {
        return secrets.store().<SecretResolver>map(store -> store).orElseGet(SecretResolver::none);
    }
}
