package io.dagy.contracts;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The revision of an event's shape. A stored event names its class and this revision; when a shape changes, bump the
 * revision and add an upcaster that turns the previous revision into the new one (see docs/events.md). A class without
 * the annotation is at revision {@code null}, which is what every event stored before revisions existed carries.
 *
 * <p>Contracts depend on nothing, so this is Dagy's own annotation rather than Axon's; the event store reads it
 * ({@code io.dagy.eventstore.events.ContractRevisionResolver}).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Revision {

    String value();
}
