package io.dagy.gateway.security;

import io.dagy.projection.identity.IdentityDirectory;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import org.springframework.context.event.EventListener;
import org.springframework.core.annotation.Order;

import java.nio.file.Path;

/** The local profile's owner key ({@link LocalOwnerKey}), made when the application is ready. */
@Configuration(proxyBeanMethods = false)
@Profile("local")
class LocalOwnerKeyConfiguration {

    @Bean
    LocalOwnerKey localOwnerKey(@Value("${dagy.local.api-key-file}") Path file) {
        return new LocalOwnerKey(file);
    }

    /** Before the startup line that says Dagy is ready, so the key is there when the newcomer reads it. */
    @EventListener(ApplicationReadyEvent.class)
    @Order(0)
    void ensureOwnerKey(ApplicationReadyEvent ready) {
        var context = ready.getApplicationContext();
        context.getBean(LocalOwnerKey.class).ensure(context.getBean(CommandGateway.class),
                context.getBean(IdentityDirectory.class), context.getBean(EventStore.class));
    }
}
