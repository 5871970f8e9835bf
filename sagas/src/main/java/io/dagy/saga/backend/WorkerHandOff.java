package io.dagy.saga.backend;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptDispatched;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.messaging.annotation.MetaDataValue;

/**
 * Offers each worker attempt committed on this node to the polls waiting here, as the commit happens (a subscribing
 * processor: no token, no read of the store, only this node's commits). What it misses (no poll waiting, a node that
 * dies) the task saga queues durably; see {@link WorkerBackend#offer}.
 */
@ProcessingGroup(WorkerHandOff.PROCESSING_GROUP)
public class WorkerHandOff {

    public static final String PROCESSING_GROUP = "worker-hand-off";

    private final WorkerBackend workers;

    public WorkerHandOff(WorkerBackend workers) {
        this.workers = workers;
    }

    @EventHandler
    void on(TaskAttemptDispatched event, @MetaDataValue(MessageKeys.ORG_ID) String org,
            @MetaDataValue(Dispatch.TRACEPARENT) String traceparent) {
        if (event.spec().backend().type() == BackendType.WORKER) {
            workers.offer(new Dispatch(event.dispatchId(), org == null ? null : new OrgId(org), event.taskRunId(),
                    event.attempt(), event.spec(), event.params(), traceparent));
        }
    }
}
