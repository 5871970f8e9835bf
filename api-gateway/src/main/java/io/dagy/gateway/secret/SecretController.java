package io.dagy.gateway.secret;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.Caller;
import io.dagy.saga.secret.SecretStore;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/**
 * The organization's secrets (admins and owners): set by name, listed and deleted. No response ever holds a value;
 * tasks name secrets in their backend's {@code secrets} and get the values at dispatch only (docs/backends.md).
 */
@RestController
class SecretController {

    private final SecretConfiguration.Secrets secrets;

    SecretController(SecretConfiguration.Secrets secrets) {
        this.secrets = secrets;
    }

    record PutRequest(String value) {
    }

    record SecretResponse(String id, String name, Instant createdAt, String createdBy, Instant updatedAt,
                          String updatedBy) {
        static SecretResponse of(SecretStore.Secret secret) {
            return new SecretResponse(secret.secretId(), secret.name(), secret.createdAt(), secret.createdBy(),
                    secret.updatedAt(), secret.updatedBy());
        }
    }

    record SecretsResponse(List<SecretResponse> items) {
    }

    @GetMapping("/v1/secrets")
    SecretsResponse list(Caller caller) {
        return new SecretsResponse(store().list(caller.org()).stream().map(SecretResponse::of).toList());
    }

    @GetMapping("/v1/secrets/{name}")
    SecretResponse get(Caller caller, @PathVariable String name) {
        return store().find(caller.org(), checked(name)).map(SecretResponse::of).orElseThrow(() -> notFound(name));
    }

    @PutMapping(path = "/v1/secrets/{name}", consumes = "application/json")
    SecretResponse put(Caller caller, @PathVariable String name, @RequestBody PutRequest body) {
        checked(name);
        if (body == null || body.value() == null || body.value().isEmpty()) {
            throw ProblemException.invalid("value", "required: the secret's value");
        }
        if (body.value().getBytes(StandardCharsets.UTF_8).length > SecretStore.MAX_VALUE_BYTES) {
            throw ProblemException.invalid("value", "at most " + SecretStore.MAX_VALUE_BYTES + " bytes");
        }
        return SecretResponse.of(store().put(caller.org(), name, body.value(), caller.actor().toString()));
    }

    @DeleteMapping("/v1/secrets/{name}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(Caller caller, @PathVariable String name) {
        if (!store().delete(caller.org(), checked(name))) {
            throw notFound(name);
        }
    }

    private SecretStore store() {
        return secrets.store().orElseThrow(() -> new ProblemException(HttpStatus.SERVICE_UNAVAILABLE,
                ErrorCode.SERVICE_UNAVAILABLE, "This installation has no secrets key (DAGY_SECRETS_KEY)."));
    }

    private static String checked(String name) {
        if (!SecretStore.isValidName(name)) {
            throw ProblemException.invalid("name", "1-128 of letters, digits, '_', '.', '-', starting with a letter "
                    + "or digit");
        }
        return name;
    }

    private static ProblemException notFound(String name) {
        return ProblemException.of(ErrorCode.SECRET_NOT_FOUND, "No secret '" + name + "' in this organization.");
    }
}
