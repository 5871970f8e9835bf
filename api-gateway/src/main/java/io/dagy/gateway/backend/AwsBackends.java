package io.dagy.gateway.backend;

import io.dagy.saga.backend.ExecutionBackend;
import io.dagy.saga.backend.aws.AwsStateChanges;

import java.util.List;

/** The AWS backends of this node (none when they are off) and the translator of their state changes. */
public record AwsBackends(List<ExecutionBackend> backends, AwsStateChanges stateChanges) {

    public AwsBackends {
        backends = List.copyOf(backends);
    }
}
