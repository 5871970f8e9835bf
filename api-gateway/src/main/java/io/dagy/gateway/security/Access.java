package io.dagy.gateway.security;

import io.dagy.contracts.identity.Permission;

/** What a route asks of its caller. */
sealed interface Access {

    /** Anyone, with no credentials: health and signed webhooks. */
    record Public() implements Access {
    }

    /** A person signed in with the identity provider, in no organization yet (creating one). */
    record SignedInUser() implements Access {
    }

    /** A caller acting in an organization whose role there holds the permission. */
    record Requires(Permission permission) implements Access {
    }

    /**
     * An operator of the installation: a caller acting in the {@code default} organization whose role there holds the
     * permission. For routes that span every organization (dead letters).
     */
    record Operator(Permission permission) implements Access {
    }
}
