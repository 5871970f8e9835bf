package io.dagy.contracts;

/**
 * A command addressed to an existing aggregate. The application routes it by {@link #targetAggregateId()}, so command
 * records need no framework annotation.
 */
public interface AggregateCommand {

    String targetAggregateId();
}
