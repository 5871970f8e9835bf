package io.dagy.contracts.billing;

import java.util.Locale;

/** The plans an organization can be on (docs/billing.md). Without a live paid subscription it is on {@link #FREE}. */
public enum Plan {
    FREE, PRO, ENTERPRISE;

    /** The wire form: {@code free}, {@code pro}, {@code enterprise}. */
    public String code() {
        return name().toLowerCase(Locale.ROOT);
    }
}
