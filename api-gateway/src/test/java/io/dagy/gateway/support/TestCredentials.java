package io.dagy.gateway.support;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.security.LocalOwnerKey;
import org.springframework.context.ApplicationContext;

import java.util.Map;

/**
 * Credentials for tests that call every route: the default organization's owner key, and a worker key of the same
 * organization for the worker API (which no other role may call).
 */
public final class TestCredentials {

    private final ApplicationContext context;
    private String workerKey;

    public TestCredentials(ApplicationContext context) {
        this.context = context;
    }

    /** The {@code Authorization} header for a request to {@code target}. */
    public synchronized Map<String, String> headersFor(String target) {
        if (target.startsWith("/v1/workers")) {
            if (workerKey == null) {
                workerKey = new TestOrganizations(context).key(OrgId.DEFAULT, Role.WORKER);
            }
            return Map.of("Authorization", "Bearer " + workerKey);
        }
        return Map.of("Authorization", "Bearer " + context.getBean(LocalOwnerKey.class).key());
    }
}
