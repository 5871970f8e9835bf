package io.dagy.eventstore.processing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On an event handler: the handler does not handle events whose payload answers {@code true} to the named accessor
 * (a public method without parameters returning {@code boolean} or {@code Boolean}). Such an event is not the handler's at all, as if it
 * were of another type: a streaming processor with no other handler for it leaves it out of its batches, so it costs
 * no transaction and no token write (the token passes it with the next batch or claim extension). For events a handler
 * would only look at and return from; applied by {@link SkipWhenEnhancer}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface SkipWhen {

    /** The payload's boolean accessor, for example {@code "queued"} for {@code TasksReady.queued()}. */
    String value();
}
