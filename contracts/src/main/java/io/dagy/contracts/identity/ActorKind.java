package io.dagy.contracts.identity;

/** How an actor reached Dagy. */
public enum ActorKind {
    /** A person, through the web UI or any client holding their identity provider's token (JWT). */
    USER,
    /** A program holding an API key. */
    API_KEY,
    /** An external worker holding a worker-scoped API key: it may only poll and report. */
    WORKER,
    /** Dagy itself: sagas, deadlines, backend reports, migrations. */
    SYSTEM,
    /** A schedule, starting the runs of its fires; its id is {@code <deployment>/<schedule id>}. */
    SCHEDULE;

    /** The wire form, e.g. {@code api_key}. */
    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static ActorKind fromCode(String code) {
        return valueOf(code.toUpperCase(java.util.Locale.ROOT));
    }
}
