package io.dagy.contracts.identity;

/**
 * Metadata every command and event carries. The REST edge sets them on the commands it sends; each event inherits
 * them from the command that caused it; commands that sagas, deadlines and backend reports send carry the
 * organization of the event that caused them and the {@link Actor#SYSTEM} actor. Events stored before tenancy are
 * read with {@code org_id = default} and the actor {@code system:before-tenancy}.
 */
public final class MessageKeys {

    public static final String ORG_ID = "org_id";
    public static final String ACTOR_KIND = "actor_kind";
    public static final String ACTOR_ID = "actor_id";
    /** The client's address and user agent, for the audit log; absent on messages Dagy sent itself. */
    public static final String IP_ADDRESS = "ip_address";
    public static final String USER_AGENT = "user_agent";

    /** The actor of every event stored before organizations and actors existed. */
    public static final Actor BEFORE_TENANCY = new Actor(ActorKind.SYSTEM, "before-tenancy");

    private MessageKeys() {
    }
}
