package io.dagy.saga.run;

import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.async.SequencingPolicy;
import org.axonframework.eventhandling.async.SequentialPerAggregatePolicy;

/**
 * Events about one run, whether from the run or from its task runs ({@code <runId>/<taskId>}), go to one segment in
 * order: outcomes of a run's tasks reach the orchestration one at a time, and a run view never shows the run finished
 * before the task whose end finished it (both are appended in one commit, in one shard).
 */
public final class RunSequencingPolicy implements SequencingPolicy<EventMessage<?>> {

    @Override
    public Object getSequenceIdentifierFor(EventMessage<?> event) {
        if (event instanceof DomainEventMessage<?> domain && domain.getAggregateIdentifier() != null) {
            return runOf(domain.getAggregateIdentifier());
        }
        return SequentialPerAggregatePolicy.instance().getSequenceIdentifierFor(event);
    }

    /** The run an aggregate belongs to: a task run's is the part of its id before the first '/'. */
    public static String runOf(String aggregateId) {
        int slash = aggregateId.indexOf('/');
        return slash < 0 ? aggregateId : aggregateId.substring(0, slash);
    }
}
