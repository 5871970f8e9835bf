package io.dagy.saga.secret;

import io.dagy.contracts.identity.OrgId;

import java.util.Collection;
import java.util.Map;

/** Decrypts the secrets a task names, at dispatch and nowhere else. */
public interface SecretResolver {

    /**
     * The values of the named secrets of an organization, by name.
     *
     * @throws SecretUnavailableException when one does not exist or cannot be decrypted
     */
    Map<String, String> resolve(OrgId org, Collection<String> names);

    /** For installations without secrets: any named secret is unavailable. */
    static SecretResolver none() {
        return (org, names) -> {
            if (!names.isEmpty()) {
                throw new SecretUnavailableException("this installation has no secrets key (DAGY_SECRETS_KEY)");
            }
            return Map.of();
        };
    }
}
