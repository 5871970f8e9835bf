package io.dagy.contracts.identity;

/** Who did something: a user id, an API key id, or {@code dagy} for the system. Never a secret. */
public record Actor(ActorKind kind, String id) {

    public static final Actor SYSTEM = new Actor(ActorKind.SYSTEM, "dagy");

    public Actor {
        if (kind == null || id == null || id.isBlank()) {
            throw new IllegalArgumentException("an actor needs a kind and an id");
        }
    }

    @Override
    public String toString() {
        return kind.code() + ":" + id;
    }
}
